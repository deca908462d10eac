#!/usr/bin/env bash
# The job timeout stops a script running in the pod: the job fails with
# job_execution_timeout at once and the pod is deleted (executors §1.5, §7.4).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
kube_job '[{"name":"script","script":["echo sleeping","sleep 120"],"timeout":600,"when":"on_success","allow_failure":false}]'
sed -i 's/"runner_info":{"timeout":600}/"runner_info":{"timeout":3}/' "$WORK/job.json"
control POST "jobs/$JOB_ID/cancel" >/dev/null   # replace the queued job with the short one
JOB_ID=$(control POST jobs "$(cat "$WORK/job.json")" | jq -r .id)
start=$(date +%s)
kube_run 0
elapsed=$(( $(date +%s) - start ))
expect_state failed job_execution_timeout
expect_contains "$WORK/trace.txt" "sleeping"
[ "$elapsed" -lt 30 ] || fail "took ${elapsed}s"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
