#!/usr/bin/env bash
# FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY=true keeps the legacy exec strategy (executors
# §7.4): every stage is its own exec with the script on stdin, nothing is attached, and the
# exit code comes from the exec status.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup "[runners.feature_flags]
    FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = true"
kube_job '[{"name":"script","script":["echo legacy-$GREETING","exit 4"],"timeout":600,"when":"on_success","allow_failure":false}]'
kube_run 0
expect_state failed script_failure
[ "$(jq -r .exit_code "$WORK/record.json")" = 4 ] || fail "exit code $(jq -r .exit_code "$WORK/record.json")"
expect_contains "$WORK/trace.txt" "legacy-hi there"
expect_not_contains "$WORK/trace.txt" "Using attach strategy"
expect_contains "$WORK/trace.txt" "ERROR: Job failed: command terminated with exit code 4"
kube_control GET requests > "$WORK/requests.json"
if grep -q '/attach' "$WORK/requests.json"; then fail "attached in legacy mode"; fi
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
