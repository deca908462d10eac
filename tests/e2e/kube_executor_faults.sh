#!/usr/bin/env bash
# Transient API failures (HTTP 500, 503 with Retry-After) on create, watch and delete are
# retried by the client and the job still succeeds; a slow pod start prints the official
# waiting line; a pod this runner left behind earlier is deleted first (executors §7.4).
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
# A leftover of an earlier process of this runner, and a pod of someone else.
for name in leftover-pod foreign-pod; do
  id=kubee2eto  # short token of glrt-t1_kubee2etok1
  [ "$name" = foreign-pod ] && id=someoneels
  curl -fsS --cacert "$WORK/kube/ca.crt" -H "Authorization: Bearer kube-e2e-token" \
    -H 'Content-Type: application/json' -X POST "$KUBE_URL/api/v1/namespaces/default/pods" \
    --data-binary "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$name\",\"labels\":{\"manager.runner.gitlab.com/id-short\":\"$id\",\"job.runner.gitlab.com/pod\":\"x\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"command\":[\"sleep\",\"600\"]}]}}" >/dev/null
done
kube_control POST faults '{"method":"POST","path":"/pods","count":2,"status":500}' >/dev/null
kube_control POST faults '{"method":"GET","path":"/pods","count":1,"status":503,"retry_after":1}' >/dev/null
kube_control POST faults '{"method":"DELETE","path":"/pods","count":1,"status":500}' >/dev/null
kube_control POST "pod_start_delay?ms=2500" >/dev/null
kube_job '[{"name":"script","script":["echo survived"],"timeout":600,"when":"on_success","allow_failure":false}]'
kube_run 0
expect_state success
expect_contains "$WORK/trace.txt" "survived"
expect_contains "$WORK/trace.txt" "to be running on the node "
expect_contains "$WORK/trace.txt" ", status is Pending"
[ "$(kube_names pods)" = foreign-pod ] || fail "pods: $(kube_names pods | tr '\n' ' ')"
echo ok
