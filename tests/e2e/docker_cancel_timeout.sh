#!/usr/bin/env bash
# Docker executor: a job timeout (also during the service wait) and a cancel from
# GitLab stop the build container promptly (job_execution_timeout / canceled), and
# every container, network and volume of the job is removed.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/../support/docker/lib.sh"
docker_setup
start_fake_gitlab
control POST runners "glrt-t1_dockcancel" >/dev/null
docker_config "$WORK/config.toml" glrt-t1_dockcancel

# Timeout: 4 s job timeout, a script sleeping for minutes.
id=$(control POST jobs "$(job_json glrunner-test/sh:1 '["echo started", "sleep 300"]' "" 4)" | jq -r .id)
start=$(date +%s)
run_expect 0 "$GLRUNNER" run-single -r docker-e2e -c "$WORK/config.toml" --max-builds 1 --wait-timeout 60 -d "$WORK"
elapsed=$(( $(date +%s) - start ))
control GET "jobs/$id" > "$WORK/record.json"
jq -r .trace "$WORK/record.json" > "$WORK/trace.txt"
[ "$(jq -r .state "$WORK/record.json")/$(jq -r .failure_reason "$WORK/record.json")" = failed/job_execution_timeout ] ||
  { cat "$WORK/trace.txt"; fail "timeout: unexpected state"; }
expect_contains "$WORK/trace.txt" "started"
[ "$elapsed" -lt 40 ] || fail "timeout took ${elapsed}s"
expect_no_leftovers dockcance

# Timeout while waiting for a service that never answers: the wait gives up with the job.
id=$(control POST jobs "$(job_json glrunner-test/sh:1 '["true"]' \
  ',"services":[{"name":"glrunner-test/httpd:1","variables":[{"key":"HEALTHCHECK_TCP_PORT","value":"81"}]}]' 4)" | jq -r .id)
docker_config "$WORK/slow.toml" glrt-t1_dockcancel "wait_for_services_timeout = 120"
start=$(date +%s)
run_expect 0 "$GLRUNNER" run-single -r docker-e2e -c "$WORK/slow.toml" --max-builds 1 --wait-timeout 60 -d "$WORK"
elapsed=$(( $(date +%s) - start ))
control GET "jobs/$id" > "$WORK/record.json"
[ "$(jq -r .state "$WORK/record.json")/$(jq -r .failure_reason "$WORK/record.json")" = failed/job_execution_timeout ] ||
  { jq -r .trace "$WORK/record.json"; fail "service wait timeout: unexpected state"; }
[ "$elapsed" -lt 40 ] || fail "service wait ignored the job timeout (${elapsed}s)"
expect_no_leftovers dockcance

# Cancel while the script runs.
# The script keeps printing so that the runner's trace updates (every 3 s while
# output flows) learn about the cancel.
id=$(control POST jobs "$(job_json glrunner-test/sh:1 '["echo running-now", "while true; do echo tick; sleep 1; done"]')" | jq -r .id)
"$GLRUNNER" run-single -r docker-e2e -c "$WORK/config.toml" --max-builds 1 --wait-timeout 60 -d "$WORK" \
  >"$WORK/run.out" 2>&1 &
runner=$!
PIDS+=($runner)
for _ in $(seq 1 150); do
  control GET "jobs/$id" | jq -r .trace | grep -q running-now && break
  sleep 0.2
done
control GET "jobs/$id" | jq -r .trace | grep -q running-now || fail "job did not start"
start=$(date +%s)
control POST "jobs/$id/cancel?graceful=0" >/dev/null
for _ in $(seq 1 100); do kill -0 "$runner" 2>/dev/null || break; sleep 0.2; done
kill -0 "$runner" 2>/dev/null && { cat "$WORK/run.out"; control GET "jobs/$id" | jq -r .trace; fail "runner still busy 20s after cancel"; }
elapsed=$(( $(date +%s) - start ))
[ "$(control GET "jobs/$id" | jq -r .state)" = canceled ] || fail "job not canceled"
[ "$elapsed" -lt 20 ] || fail "cancel took ${elapsed}s"
expect_no_leftovers dockcance
echo ok
