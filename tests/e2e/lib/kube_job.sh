# Shared setup of the Kubernetes executor scripts (kube_executor_*.sh), sourced after
# common.sh: a fake GitLab with one git project, fake-kube behind a bearer token, and a
# config.toml whose [runners.kubernetes] points at it. fake-kube runs every container as a
# local process and maps mount paths (/builds) to pod directories; glrunner is the
# `gitlab-runner-helper` on the containers' PATH (the attach strategy's read-logs).

# kube_setup [EXTRA_KUBERNETES_TOML]
kube_setup() {
  start_fake_gitlab
  mkdir -p "$WORK/kube-bin"
  ln -sf "$GLRUNNER" "$WORK/kube-bin/gitlab-runner-helper"
  start_fake_kube --token kube-e2e-token --path "$WORK/kube-bin"
  seed_git_project
  control POST runners "glrt-t1_kubee2etok1" >/dev/null
  cat > "$WORK/config.toml" <<TOML
concurrent = 1
[[runners]]
  name = "kube"
  url = "$FAKE_URL"
  token = "glrt-t1_kubee2etok1"
  executor = "kubernetes"
  [runners.kubernetes]
    host = "$KUBE_URL"
    ca_file = "$WORK/kube/ca.crt"
    bearer_token = "kube-e2e-token"
    namespace = "default"
    image = "alpine:3.20"
    helper_image = "glrunner:e2e"
    poll_interval = 1
    poll_timeout = 30
    ${1:-}
TOML
}

# kube_job STEPS_JSON [EXTRA_TOP_LEVEL_JSON]: queues a job and sets JOB_ID.
kube_job() {
  local steps=$1 extra=${2:-}
  cat > "$WORK/job.json" <<JSON
{"id":0,"token":"","allow_git_fetch":false,
 "job_info":{"name":"kube-e2e","stage":"test","project_id":5,"project_name":"project",
   "project_full_path":"group/project"},
 "git_info":{"repo_url":"http://gitlab-ci-token:{{JOB_TOKEN}}@127.0.0.1:$GITLAB_PORT/group/project.git",
   "ref":"main","sha":"$SHA","ref_type":"branch","depth":0,
   "refspecs":["+refs/heads/*:refs/remotes/origin/*"]},
 "runner_info":{"timeout":600},
 "variables":[{"key":"CI_JOB_TOKEN","value":"{{JOB_TOKEN}}","public":false,"masked":true},
   {"key":"PASSWORD","value":"hunter2-is-secret","public":false,"masked":true},
   {"key":"GREETING","value":"hi there","public":true}],
 "steps":$steps,
 ${extra}
 "features":{"trace_sections":true,"failure_reasons":["script_failure","runner_system_failure","job_execution_timeout","image_pull_failure"]}}
JSON
  JOB_ID=$(control POST jobs "$(cat "$WORK/job.json")" | jq -r .id)
}

# kube_run CODE: run-single for one job against the config.
kube_run() {
  run_expect "$1" "$GLRUNNER" run-single -c "$WORK/config.toml" --runner kube --max-builds 1 \
    --wait-timeout 60 -d "$WORK"
  kube_record
}

# kube_record: the job's record in $WORK/record.json, its log in $WORK/trace.txt.
kube_record() {
  control GET "jobs/$JOB_ID" > "$WORK/record.json"
  jq -r .trace "$WORK/record.json" > "$WORK/trace.txt"
}

# kube_start: run-single for one job in the background (output in $WORK/out, $WORK/err);
# sets RUNNER_PID.
kube_start() {
  "$GLRUNNER" run-single -c "$WORK/config.toml" --runner kube --max-builds 1 --wait-timeout 60 \
    -d "$WORK" >"$WORK/out" 2>"$WORK/err" &
  RUNNER_PID=$!
  PIDS+=($RUNNER_PID)
}

# kube_cancel [QUERY]: cancels the job (QUERY e.g. "?graceful=1"), waits for the runner from
# kube_start to exit, sets ELAPSED (seconds from the cancel to its exit) and calls kube_record.
kube_cancel() {
  control POST "jobs/$JOB_ID/cancel${1:-}" >/dev/null
  local start
  start=$(date +%s)
  wait "$RUNNER_PID" || true
  ELAPSED=$(( $(date +%s) - start ))
  kube_record
}

# kube_names RESOURCE: names of the objects of that kind in "default".
kube_names() {
  curl -fsS --cacert "$WORK/kube/ca.crt" -H "Authorization: Bearer kube-e2e-token" \
    "$KUBE_URL/api/v1/namespaces/default/$1" | jq -r '.items[].metadata.name'
}

expect_state() {  # expect_state STATE [FAILURE_REASON]
  local state
  state=$(jq -r .state "$WORK/record.json")
  [ "$state" = "$1" ] || { cat "$WORK/trace.txt"; jq 'del(.trace)' "$WORK/record.json"; fail "job state $state, expected $1"; }
  if [ $# -ge 2 ]; then
    local reason
    reason=$(jq -r .failure_reason "$WORK/record.json")
    [ "$reason" = "$2" ] || { cat "$WORK/trace.txt"; fail "failure_reason $reason, expected $2"; }
  fi
}
