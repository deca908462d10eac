#!/usr/bin/env bash
# A graceful cancel (Job-Status: canceling) of a script running in the pod stops only that
# stage: after_script still runs in the pod, then the pod is deleted (executors §1.6, §7.4).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
# Output every second keeps trace PATCHes going, whose answers carry Job-Status: canceling.
kube_job '[{"name":"script","script":["echo sleeping","for i in $(seq 1 120); do echo tick; sleep 1; done"],"timeout":600,"when":"on_success","allow_failure":false},
  {"name":"after_script","script":["echo after-ran status=$CI_JOB_STATUS"],"timeout":60,"when":"always","allow_failure":false}]'
kube_start
wait_for 60 sh -c "curl -fsS '${FAKE_URL}__control/jobs/$JOB_ID' | jq -r .trace | grep -q sleeping" ||
  fail "the script never started"
kube_cancel "?graceful=1"
expect_state canceled
expect_contains "$WORK/trace.txt" "after-ran status=canceled"
[ "$ELAPSED" -lt 30 ] || fail "took ${ELAPSED}s after cancel"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
