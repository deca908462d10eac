#!/usr/bin/env bash
# The attach strategy, the default (executors §7.4): every stage script is saved into the pod's
# scripts volume, started by attaching to the container's shell, and its output is read back
# from the logs volume with `gitlab-runner-helper read-logs`; the status markers never reach
# the job log, and no stage runs over its own exec.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
kube_job '[{"name":"script","script":["cat file.txt","echo \"$GREETING\"","for i in 1 2 3; do echo line-$i; done","echo pw=$PASSWORD"],"timeout":600,"when":"on_success","allow_failure":false}]'
kube_run 0
expect_state success
expect_contains "$WORK/trace.txt" "Using Kubernetes executor with image alpine:3.20 ..."
expect_contains "$WORK/trace.txt" "Using attach strategy to execute scripts..."
expect_contains "$WORK/trace.txt" "content from git"
expect_contains "$WORK/trace.txt" "hi there"
expect_contains "$WORK/trace.txt" "pw=[MASKED]"
for i in 1 2 3; do
  [ "$(grep -c "line-$i\$" "$WORK/trace.txt")" = 1 ] || fail "line-$i not exactly once: $(cat "$WORK/trace.txt")"
done
expect_not_contains "$WORK/trace.txt" "command_exit_code"
expect_not_contains "$WORK/trace.txt" '{"script"'
expect_not_contains "$WORK/trace.txt" "hunter2"
expect_contains "$WORK/trace.txt" "Job succeeded"
kube_control GET requests > "$WORK/requests.json"
grep -q '/attach' "$WORK/requests.json" || fail "no attach: $(cat "$WORK/requests.json")"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
