# Shared helpers for the black-box CLI tests (one behaviour per script).
# Every script gets GLRUNNER (the binary) and FAKE_GITLAB (the fake server) from ctest.
set -euo pipefail

: "${GLRUNNER:?GLRUNNER must point at build/glrunner}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/glr-e2e-XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_contains FILE TEXT: the file holds the literal text.
expect_contains() {
  grep -qF -- "$2" "$1" || { echo "--- $1:"; cat "$1"; fail "expected \"$2\" in $1"; }
}
expect_not_contains() {
  if grep -qF -- "$2" "$1"; then echo "--- $1:"; cat "$1"; fail "did not expect \"$2\" in $1"; fi
}

# run_expect CODE CMD...: runs the command (output to $WORK/out, $WORK/err) and checks its exit code.
run_expect() {
  local want=$1
  shift
  set +e
  timeout 120 "$@" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  set -e
  if [ "$got" != "$want" ]; then
    echo "--- stdout:"; cat "$WORK/out"; echo "--- stderr:"; cat "$WORK/err"
    fail "$* exited $got, expected $want"
  fi
}

# wait_for_line FILE PATTERN TRIES: polls every 0.1 s, at most TRIES times, until the file
# holds a line matching the grep pattern (a server's "listening on"); returns 0 either way, the
# caller checks what it parses out of the file.
wait_for_line() {
  local i
  for i in $(seq 1 "$3"); do
    if grep -q "$2" "$1" 2>/dev/null; then break; fi
    sleep 0.1
  done
}

# start_fake_gitlab: starts the fake server, sets FAKE_URL.
start_fake_gitlab() {
  : "${FAKE_GITLAB:?FAKE_GITLAB must point at the fake-gitlab binary}"
  "$FAKE_GITLAB" --port 0 "$@" >"$WORK/fake.out" 2>"$WORK/fake.err" &
  PIDS+=($!)
  wait_for_line "$WORK/fake.out" "listening on" 100
  FAKE_URL=$(sed -n 's/^listening on \(http[^ ]*\).*/\1/p' "$WORK/fake.out" | head -1)
  [ -n "$FAKE_URL" ] || fail "fake gitlab did not start: $(cat "$WORK/fake.err")"
}

# start_s3rver: starts s3rver (npm, installed by scripts/test.sh into build/s3rver) on 127.0.0.1
# with the bucket "cache" and its default S3RVER/S3RVER keys; sets S3_PORT and S3_DATA. Skips
# the test (exit 77) when s3rver is not installed.
start_s3rver() {
  if [ -z "${S3RVER:-}" ] || [ ! -x "$S3RVER" ]; then
    echo "SKIP: s3rver not installed (src/artifacts/s3rver/install.sh build/s3rver)"
    exit 77
  fi
  S3_DATA="$WORK/s3data"
  mkdir -p "$S3_DATA"
  HOME="$S3_DATA" "$S3RVER" -d "$S3_DATA" -a 127.0.0.1 -p 0 --configure-bucket cache \
    --no-vhost-buckets >"$WORK/s3rver.out" 2>"$WORK/s3rver.err" &
  PIDS+=($!)
  wait_for_line "$WORK/s3rver.out" "listening on 127.0.0.1:" 200
  S3_PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/s3rver.out" | head -1)
  [ -n "$S3_PORT" ] || fail "s3rver did not start: $(cat "$WORK/s3rver.out" "$WORK/s3rver.err")"
}

control() {  # control METHOD PATH [DATA]
  if [ $# -ge 3 ]; then
    curl -fsS -X "$1" --data-binary "$3" "${FAKE_URL}__control/$2"
  else
    curl -fsS -X "$1" "${FAKE_URL}__control/$2"
  fi
}

# seed_git_project: a bare repo with one commit (file.txt, "content from git") on main, served
# by the fake GitLab as group/project.git; sets SHA (the commit) and GITLAB_PORT (the fake's port,
# for repo URLs on 127.0.0.1). Call after start_fake_gitlab.
seed_git_project() {
  GITLAB_PORT=$(echo "$FAKE_URL" | sed 's#.*:\([0-9]*\)/#\1#')
  git init -q --bare "$WORK/project.git"
  git init -q -b main "$WORK/seed"
  echo "content from git" > "$WORK/seed/file.txt"
  git -C "$WORK/seed" add file.txt
  git -C "$WORK/seed" -c user.name=t -c user.email=t@example.com commit -q -m init
  git -C "$WORK/seed" push -q "$WORK/project.git" main
  SHA=$(git -C "$WORK/seed" rev-parse HEAD)
  control POST "git?path=group/project.git&dir=$WORK/project.git" >/dev/null
}

# shell_job NAME SCRIPT_JSON_ARRAY EXTRA_FIELDS [PROJECT_ID] [REPO]: prints the payload of a job
# with GIT_STRATEGY=none (no clone) whose one script step runs SCRIPT_JSON_ARRAY; EXTRA_FIELDS
# are top-level JSON members ("cache":[...] or "artifacts":[...],"dependencies":[...]).
# PROJECT_ID defaults to 5; the repo URL names group/REPO.git (default project).
shell_job() {
  cat <<JSON
{"id":0,"token":"","allow_git_fetch":false,
 "job_info":{"name":"$1","stage":"test","project_id":${4:-5},"project_name":"project"},
 "git_info":{"repo_url":"http://127.0.0.1/group/${5:-project}.git","ref":"main","sha":"0000000000000000000000000000000000000000","ref_type":"branch"},
 "runner_info":{"timeout":600},
 "variables":[{"key":"CI_JOB_TOKEN","value":"{{JOB_TOKEN}}","public":false,"masked":true},
   {"key":"GIT_STRATEGY","value":"none","public":true}],
 "steps":[{"name":"script","script":$2,"timeout":600,"when":"on_success","allow_failure":false}],
 $3,
 "features":{"trace_sections":true}}
JSON
}

# expect_job_success N ID: stores the fake GitLab's record of job ID in $WORK/jobN.json and its
# log in $WORK/traceN.txt; fails ("job N not successful", the log shown) unless its state is success.
expect_job_success() {
  control GET "jobs/$2" > "$WORK/job$1.json"
  jq -r .trace "$WORK/job$1.json" > "$WORK/trace$1.txt"
  [ "$(jq -r .state "$WORK/job$1.json")" = success ] || { cat "$WORK/trace$1.txt"; fail "job $1 not successful"; }
}

# start_fake_kube [ARGS...]: starts the fake Kubernetes API server, sets KUBE_URL and exports
# KUBECONFIG. Scripts that drive kubectl call need_kubectl first (exit 77 = skipped).
start_fake_kube() {
  : "${FAKE_KUBE:?FAKE_KUBE must point at the fake-kube binary}"
  mkdir -p "$WORK/kube"
  "$FAKE_KUBE" --dir "$WORK/kube" --port 0 "$@" >"$WORK/kube.out" 2>"$WORK/kube.err" &
  PIDS+=($!)
  wait_for_line "$WORK/kube.out" "listening on" 100
  KUBE_URL=$(sed -n 's/^listening on \(https[^ ]*\).*/\1/p' "$WORK/kube.out" | head -1)
  [ -n "$KUBE_URL" ] || fail "fake kube did not start: $(cat "$WORK/kube.err")"
  export KUBECONFIG="$WORK/kube/kubeconfig"
}

kube_control() {  # kube_control METHOD PATH [DATA]
  if [ $# -ge 3 ]; then
    curl -fsS --cacert "$WORK/kube/ca.crt" -X "$1" --data-binary "$3" "$KUBE_URL/__control/$2"
  else
    curl -fsS --cacert "$WORK/kube/ca.crt" -X "$1" "$KUBE_URL/__control/$2"
  fi
}

need_kubectl() {
  command -v kubectl >/dev/null 2>&1 || { echo "SKIP: kubectl not found"; exit 77; }
}

# wait_for SECONDS CMD...: retries the command every 0.1 s until it succeeds.
wait_for() {
  local limit=$1 i
  shift
  for i in $(seq 1 $((limit * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}
