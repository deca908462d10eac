# Helpers for the docker executor e2e scripts (sourced after tests/e2e/common.sh).
# docker_setup: makes sure a Docker Engine answers (starting one if needed, stopped
# again at exit), imports the test images, and exits 77 (ctest SKIP) only when no
# daemon can run on this machine.
DOCKER_SUPPORT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$DOCKER_SUPPORT_DIR/../../.." && pwd)
DOCKER_TCP=${GLR_DOCKER_TCP:-tcp://127.0.0.1:${GLR_DOCKER_TCP_PORT:-23750}}

docker_setup() {
  if ! "$REPO_ROOT/scripts/services/dockerd.sh" start >"$WORK/dockerd.out" 2>&1; then
    cat "$WORK/dockerd.out" >&2
    echo "SKIP: no Docker Engine can run here (see above)"
    exit 77
  fi
  if grep -q "dockerd: started" "$WORK/dockerd.out"; then
    DOCKERD_STARTED=1
    trap 'cleanup; "$REPO_ROOT/scripts/services/dockerd.sh" stop >/dev/null 2>&1' EXIT
  fi
  command -v docker >/dev/null || fail "the docker CLI is needed by the tests"
  "$DOCKER_SUPPORT_DIR/build-images.sh" >/dev/null || fail "cannot import the test images"
}

# docker_leftovers LABEL=VALUE: prints every container, network and volume carrying it.
docker_leftovers() {
  docker ps -aq --filter "label=$1"
  docker network ls -q --filter "label=$1"
  docker volume ls -q --filter "label=$1"
}

# expect_no_leftovers SHORT_TOKEN
expect_no_leftovers() {
  local left
  left=$(docker_leftovers "com.gitlab.gitlab-runner.runner.id=$1")
  [ -z "$left" ] || fail "leftover docker resources for runner $1: $left"
}

# docker_config FILE SHORT-TOKEN-SUFFIX [extra docker section lines...]
# Writes a config.toml with one docker runner for the fake GitLab.
docker_config() {
  local file=$1 token=$2
  shift 2
  {
    echo "concurrent = 1"
    echo "check_interval = 1"
    echo "[[runners]]"
    echo "  name = \"docker-e2e\""
    echo "  url = \"$FAKE_URL\""
    echo "  token = \"$token\""
    echo "  executor = \"docker\""
    echo "  [runners.docker]"
    echo "    image = \"glrunner-test/sh:1\""
    case " $* " in *pull_policy\ =*) ;; *) echo "    pull_policy = [\"if-not-present\"]" ;; esac
    local line
    for line in "$@"; do echo "    $line"; done
  } >"$file"
}

# job_json IMAGE SCRIPT_JSON_ARRAY [EXTRA_JSON_FIELDS] [TIMEOUT]: a job payload (git
# strategy none, so no repository is needed).
job_json() {
  local image=$1 script=$2 extra=${3:-} timeout=${4:-600}
  cat <<JSON
{"id":0,"token":"","allow_git_fetch":false,
 "job_info":{"name":"docker-e2e","stage":"test","project_id":7,"project_name":"project"},
 "git_info":{"repo_url":"http://127.0.0.1:1/group/project.git","ref":"main","sha":"0000000000000000000000000000000000000000","ref_type":"branch","depth":0},
 "runner_info":{"timeout":$timeout},
 "image":{"name":"$image"},
 "variables":[{"key":"GIT_STRATEGY","value":"none","public":true},
   {"key":"GREETING","value":"hello from the job","public":true}],
 "steps":[{"name":"script","script":$script,"timeout":$timeout,"when":"on_success","allow_failure":false}],
 "features":{"trace_sections":true,"failure_reasons":["script_failure","runner_system_failure","job_execution_timeout","runner_configuration_error","image_pull_failure","runner_external_dependency_failure"]}
 $extra}
JSON
}
