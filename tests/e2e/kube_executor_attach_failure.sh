#!/usr/bin/env bash
# A failing script under the attach strategy: the exit code comes from the script's exit
# marker in the log file and is the job's, reported as script_failure with the official
# wording; after_script still runs in the pod, which is then deleted (executors §7.4).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
kube_job '[{"name":"script","script":["echo before","exit 3","echo never"],"timeout":600,"when":"on_success","allow_failure":false},
  {"name":"after_script","script":["echo in-after-script"],"timeout":600,"when":"always","allow_failure":false}]'
kube_run 0
expect_state failed script_failure
[ "$(jq -r .exit_code "$WORK/record.json")" = 3 ] || fail "exit code $(jq -r .exit_code "$WORK/record.json")"
expect_contains "$WORK/trace.txt" "Using attach strategy to execute scripts..."
expect_contains "$WORK/trace.txt" "before"
expect_not_contains "$WORK/trace.txt" "never"
expect_contains "$WORK/trace.txt" "in-after-script"
expect_not_contains "$WORK/trace.txt" "command_exit_code"
expect_contains "$WORK/trace.txt" "ERROR: Job failed: command terminated with exit code 3"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
