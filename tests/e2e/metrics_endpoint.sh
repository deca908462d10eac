#!/usr/bin/env bash
# `run` with listen_address serves /metrics (official family names, moving with
# events), /health/ready and /debug/jobs/list (api spec §9.1, §9.2).
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST runners "glrt-t1_metricstoken1" >/dev/null
port=$((20000 + RANDOM % 20000))
cat > "$WORK/config.toml" <<TOML
concurrent = 2
check_interval = 1
listen_address = "127.0.0.1:$port"
[[runners]]
  name = "metered"
  url = "$FAKE_URL"
  token = "glrt-t1_metricstoken1"
  executor = "shell"
  limit = 3
  builds_dir = "$WORK/builds"
TOML
"$GLRUNNER" run -c "$WORK/config.toml" -d "$WORK" >"$WORK/runner.out" 2>"$WORK/runner.err" &
runner=$!
PIDS+=("$runner")
for i in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$port/health/ready" > "$WORK/ready" || fail "not ready: $(cat "$WORK/runner.err")"
expect_contains "$WORK/ready" "ready"
cat > "$WORK/job.json" <<JSON
{"id":0,"token":"","job_info":{"name":"m","stage":"test","project_id":3},
 "git_info":{"repo_url":"http://127.0.0.1:1/g/p.git","ref":"main","sha":"0000000000000000000000000000000000000000"},
 "runner_info":{"timeout":600},
 "variables":[{"key":"GIT_STRATEGY","value":"none","public":true}],
 "steps":[{"name":"script","script":["exit 4"],"timeout":600,"when":"on_success"}],
 "features":{"trace_sections":true,"failure_reasons":["script_failure"]}}
JSON
id=$(control POST jobs "$(cat "$WORK/job.json")" | jq -r .id)
curl -fsS "${FAKE_URL}__control/jobs/$id/wait?timeout_ms=30000" >/dev/null || fail "job did not finish"
sleep 0.5
curl -fsS "http://127.0.0.1:$port/metrics" > "$WORK/metrics"
for family in gitlab_runner_version_info gitlab_runner_concurrent gitlab_runner_limit gitlab_runner_jobs \
    gitlab_runner_jobs_total gitlab_runner_failed_jobs_total gitlab_runner_job_duration_seconds_bucket \
    gitlab_runner_api_request_statuses_total gitlab_runner_errors_total process_resident_memory_bytes; do
  expect_contains "$WORK/metrics" "$family"
done
expect_contains "$WORK/metrics" "gitlab_runner_concurrent 2"
grep -E '^gitlab_runner_limit\{.*runner="metricsto".*\} 3' "$WORK/metrics" >/dev/null || fail "limit gauge"
grep -E '^gitlab_runner_jobs_total\{.*\} 1' "$WORK/metrics" >/dev/null || fail "jobs_total did not move: $(grep jobs_total "$WORK/metrics")"
grep -E '^gitlab_runner_failed_jobs_total\{.*failure_reason="script_failure".*\} 1' "$WORK/metrics" >/dev/null || fail "failed_jobs_total"
grep -E '^gitlab_runner_api_request_statuses_total\{.*endpoint="request_job".*status="201".*\} 1' "$WORK/metrics" >/dev/null || fail "api statuses: $(grep api_request_statuses "$WORK/metrics")"
grep -E '^gitlab_runner_api_request_retries_total\{.*path="/api/v4/jobs/\{id\}/trace".*\} [1-9]' "$WORK/metrics" >/dev/null || fail "retries: $(grep retries_total "$WORK/metrics")"
grep -E '^gitlab_runner_job_execution_mode_total\{.*\} 1' "$WORK/metrics" >/dev/null || fail "execution mode"
curl -fsS -D "$WORK/headers" "http://127.0.0.1:$port/debug/jobs/list" >/dev/null
expect_contains "$WORK/headers" "X-List-Version: 2"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")
[ "$code" = 405 ] || fail "POST /metrics gave $code"
kill -QUIT "$runner"
wait "$runner" || fail "runner exit code"
echo ok
