#!/usr/bin/env bash
# SIGQUIT: `run` stops asking for jobs, lets the running job finish, reports it,
# and exits 0 (api spec §10.1).
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST runners "glrt-t1_quittoken123" >/dev/null
cat > "$WORK/config.toml" <<TOML
concurrent = 2
check_interval = 1
[[runners]]
  name = "quitter"
  url = "$FAKE_URL"
  token = "glrt-t1_quittoken123"
  executor = "shell"
  builds_dir = "$WORK/builds"
TOML
cat > "$WORK/job.json" <<JSON
{"id":0,"token":"","job_info":{"name":"slow","stage":"test","project_id":9},
 "git_info":{"repo_url":"http://127.0.0.1:1/g/p.git","ref":"main","sha":"0000000000000000000000000000000000000000"},
 "runner_info":{"timeout":600},
 "variables":[{"key":"GIT_STRATEGY","value":"none","public":true}],
 "steps":[{"name":"script","script":["touch $WORK/started","sleep 3","echo finished-after-quit"],"timeout":600,"when":"on_success"}],
 "features":{"trace_sections":true}}
JSON
id=$(control POST jobs "$(cat "$WORK/job.json")" | jq -r .id)
"$GLRUNNER" run -c "$WORK/config.toml" -d "$WORK" >"$WORK/runner.out" 2>"$WORK/runner.err" &
runner=$!
for i in $(seq 1 100); do [ -e "$WORK/started" ] && break; sleep 0.1; done
[ -e "$WORK/started" ] || fail "job did not start: $(cat "$WORK/runner.err")"
kill -QUIT "$runner"
set +e
timeout 60 tail --pid="$runner" -f /dev/null
wait "$runner"
code=$?
set -e
[ "$code" = 0 ] || fail "runner exited $code: $(cat "$WORK/runner.err")"
control GET "jobs/$id" > "$WORK/record.json"
[ "$(jq -r .state "$WORK/record.json")" = success ] || { cat "$WORK/record.json"; fail "job did not finish"; }
jq -r .trace "$WORK/record.json" | grep -q finished-after-quit || fail "job output missing"
expect_contains "$WORK/runner.err" "graceful shutdown"
echo ok
