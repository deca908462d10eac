#!/usr/bin/env bash
# A job service becomes a container of the job pod named after its alias, started with its
# entrypoint, the job's public variables and its own variables (executors §7.4 "Containers").
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
kube_job '[{"name":"script","script":["for i in $(seq 1 100); do [ -s /builds/svc-mark ] && break; sleep 0.1; done","cat /builds/svc-mark"],"timeout":600,"when":"on_success","allow_failure":false}]' \
  '"services":[{"name":"busybox:1","alias":"svc-one","entrypoint":["sh","-c","echo \"service says $SVC_WORD and $GREETING\" > $MARK; exec sleep 600"],"variables":[{"key":"SVC_WORD","value":"hello","public":true},{"key":"MARK","value":"/builds/svc-mark","public":true}]}],'
kube_run 0
expect_state success
expect_contains "$WORK/trace.txt" "service says hello and hi there"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
