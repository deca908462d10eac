#!/usr/bin/env bash
# SIGTERM: `run` aborts the running job, which still reports itself failed
# (runner_interrupted, mapped for the server), and exits (api spec §10.1).
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST runners "glrt-t1_termtoken123" >/dev/null
cat > "$WORK/config.toml" <<TOML
concurrent = 1
check_interval = 1
shutdown_timeout = 20
[[runners]]
  name = "terminated"
  url = "$FAKE_URL"
  token = "glrt-t1_termtoken123"
  executor = "shell"
  builds_dir = "$WORK/builds"
TOML
cat > "$WORK/job.json" <<JSON
{"id":0,"token":"","job_info":{"name":"long","stage":"test","project_id":9},
 "git_info":{"repo_url":"http://127.0.0.1:1/g/p.git","ref":"main","sha":"0000000000000000000000000000000000000000"},
 "runner_info":{"timeout":600},
 "variables":[{"key":"GIT_STRATEGY","value":"none","public":true}],
 "steps":[{"name":"script","script":["sleep 300 & echo \$! > $WORK/child.pid; touch $WORK/started; wait"],"timeout":600,"when":"on_success"}],
 "features":{"trace_sections":true,"failure_reasons":["script_failure","runner_system_failure","runner_interrupted"]}}
JSON
id=$(control POST jobs "$(cat "$WORK/job.json")" | jq -r .id)
"$GLRUNNER" run -c "$WORK/config.toml" -d "$WORK" >"$WORK/runner.out" 2>"$WORK/runner.err" &
runner=$!
for i in $(seq 1 100); do [ -e "$WORK/started" ] && break; sleep 0.1; done
[ -e "$WORK/started" ] || fail "job did not start: $(cat "$WORK/runner.err")"
kill -TERM "$runner"
set +e
timeout 60 tail --pid="$runner" -f /dev/null
wait "$runner"
set -e
control GET "jobs/$id" > "$WORK/record.json"
[ "$(jq -r .state "$WORK/record.json")" = failed ] || { cat "$WORK/record.json"; fail "job not failed"; }
[ "$(jq -r .failure_reason "$WORK/record.json")" = runner_interrupted ] || fail "wrong failure reason"
jq -r .trace "$WORK/record.json" | grep -q "ERROR: Job failed: aborted: terminated" || fail "final line missing"
child=$(cat "$WORK/child.pid")
# Killed with the job's process group; give init a moment to reap the orphan.
for i in $(seq 1 50); do
  state=$(awk '{print $3}' "/proc/$child/stat" 2>/dev/null || true)
  [ -z "$state" ] || [ "$state" = Z ] && break
  sleep 0.1
done
state=$(awk '{print $3}' "/proc/$child/stat" 2>/dev/null || true)
[ -z "$state" ] || [ "$state" = Z ] || fail "job child $child survived (state $state)"
echo ok
