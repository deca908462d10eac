#!/usr/bin/env bash
# The attach strategy under network trouble (executors §7.4): the read-logs streams are cut in
# the middle of the output twice and are reopened from the last complete line's offset, so no
# line is lost or repeated; an attach answered with HTTP 500 and a pod create answered with 500
# are retried; the job succeeds.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
kube_control POST faults '{"method":"POST","path":"/pods","count":1,"status":500}' >/dev/null
kube_control POST faults '{"path":"/attach","count":1,"status":500}' >/dev/null
kube_control POST "drop_execs?contains=read-logs&after_bytes=300&count=2" >/dev/null
kube_job '[{"name":"script","script":["for i in $(seq 1 40); do echo numbered-line-$i; done"],"timeout":600,"when":"on_success","allow_failure":false}]'
kube_run 0
expect_state success
for i in $(seq 1 40); do
  n=$(grep -c "numbered-line-$i\$" "$WORK/trace.txt")
  [ "$n" = 1 ] || fail "numbered-line-$i seen $n times: $(cat "$WORK/trace.txt")"
done
kube_control GET requests > "$WORK/requests.json"
# Both cuts happened and were followed by a reconnect.
[ "$(cat "$WORK/out" "$WORK/err" | grep -c 'reading the job log stopped; reconnecting')" -ge 2 ] ||
  fail "no reconnects logged: $(cat "$WORK/err")"
grep -q 'GET /api/v1/namespaces/default/pods/.*/attach' "$WORK/requests.json" ||
  fail "no attach: $(cat "$WORK/requests.json")"
expect_contains "$WORK/trace.txt" "Job succeeded"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
