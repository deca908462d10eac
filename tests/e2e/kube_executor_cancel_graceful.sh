#!/usr/bin/env bash
# A graceful cancel (Job-Status: canceling) of a script running in the pod stops only that
# stage: after_script still runs in the pod, then the pod is deleted (executors §1.6, §7.4).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
# Output every second keeps trace PATCHes going, whose answers carry Job-Status: canceling.
kube_job '[{"name":"script","script":["echo sleeping","for i in $(seq 1 120); do echo tick; sleep 1; done"],"timeout":600,"when":"on_success","allow_failure":false},
  {"name":"after_script","script":["echo after-ran status=$CI_JOB_STATUS"],"timeout":60,"when":"always","allow_failure":false}]'
"$GLRUNNER" run-single -c "$WORK/config.toml" --runner kube --max-builds 1 --wait-timeout 60 \
  -d "$WORK" >"$WORK/out" 2>"$WORK/err" &
runner=$!
PIDS+=($runner)
wait_for 60 sh -c "curl -fsS '${FAKE_URL}__control/jobs/$JOB_ID' | jq -r .trace | grep -q sleeping" ||
  fail "the script never started"
control POST "jobs/$JOB_ID/cancel?graceful=1" >/dev/null
start=$(date +%s)
wait $runner || true
elapsed=$(( $(date +%s) - start ))
control GET "jobs/$JOB_ID" > "$WORK/record.json"
jq -r .trace "$WORK/record.json" > "$WORK/trace.txt"
expect_state canceled
expect_contains "$WORK/trace.txt" "after-ran status=canceled"
[ "$elapsed" -lt 30 ] || fail "took ${elapsed}s after cancel"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
