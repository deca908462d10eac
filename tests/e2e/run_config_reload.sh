#!/usr/bin/env bash
# `run` re-reads config.toml when it changes (every 3 s) and on SIGHUP: a broken file
# keeps the old config and is reported once; a fixed file with a new runner takes jobs
# without a restart (api spec §10.2).
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST runners "glrt-t1_reloadtokenA1" >/dev/null
control POST runners "glrt-t1_reloadtokenB2" >/dev/null
write_config() {  # write_config TOKEN
  cat > "$WORK/config.toml.new" <<TOML
concurrent = 1
check_interval = 1
[[runners]]
  name = "reload"
  url = "$FAKE_URL"
  token = "$1"
  executor = "shell"
  builds_dir = "$WORK/builds"
TOML
  mv "$WORK/config.toml.new" "$WORK/config.toml"
}
job_json='{"job_info":{"name":"r","stage":"test","project_id":1},"git_info":{"repo_url":"http://127.0.0.1:1/g/p.git","ref":"main","sha":"0000000000000000000000000000000000000000"},"runner_info":{"timeout":60},"variables":[{"key":"GIT_STRATEGY","value":"none","public":true}],"steps":[{"name":"script","script":["echo reloaded-ok"],"when":"on_success"}],"features":{"trace_sections":true}}'
write_config glrt-t1_reloadtokenA1
"$GLRUNNER" run -c "$WORK/config.toml" -d "$WORK" >"$WORK/runner.out" 2>"$WORK/runner.err" &
runner=$!
PIDS+=("$runner")
sleep 2
# A broken file: the old config stays, the error is logged once for this change.
echo 'concurrent = "oops' > "$WORK/config.toml"
sleep 7
count=$(grep -c "Failed to load config" "$WORK/runner.err" || true)
[ "$count" = 1 ] || fail "broken config reported $count times: $(cat "$WORK/runner.err")"
# A fixed file with runner B: picked up by the mtime check, B takes the next job.
sleep 1
write_config glrt-t1_reloadtokenB2
sleep 4
id=$(control POST jobs "$job_json" | jq -r .id)
curl -fsS "${FAKE_URL}__control/jobs/$id/wait?timeout_ms=30000" >/dev/null || fail "job not run after reload: $(cat "$WORK/runner.err")"
control GET requests | jq -r '.[] | select(.target=="/api/v4/jobs/request") | .body' | tail -1 | grep -q reloadtokenB2 \
  || fail "requests still use the old token"
# SIGHUP forces a reload even when the mtime did not change.
kill -HUP "$runner"
sleep 1
expect_contains "$WORK/runner.err" "Reloading configuration (SIGHUP)"
kill -QUIT "$runner"
wait "$runner" || fail "runner exit code"
echo ok
