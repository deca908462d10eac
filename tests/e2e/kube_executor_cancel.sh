#!/usr/bin/env bash
# Canceling a job whose script runs in the pod ends it promptly and deletes the pod
# (executors §1.6, §7.4 "Cancel").
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
kube_job '[{"name":"script","script":["echo sleeping","sleep 120"],"timeout":600,"when":"on_success","allow_failure":false}]'
"$GLRUNNER" run-single -c "$WORK/config.toml" --runner kube --max-builds 1 --wait-timeout 60 \
  -d "$WORK" >"$WORK/out" 2>"$WORK/err" &
runner=$!
PIDS+=($runner)
wait_for 60 sh -c "[ -n \"\$(curl -fsS --cacert '$WORK/kube/ca.crt' -H 'Authorization: Bearer kube-e2e-token' '$KUBE_URL/api/v1/namespaces/default/pods' | jq -r '.items[].metadata.name')\" ]" \
  || fail "no pod appeared"
sleep 1
control POST "jobs/$JOB_ID/cancel" >/dev/null
start=$(date +%s)
wait $runner || true
elapsed=$(( $(date +%s) - start ))
control GET "jobs/$JOB_ID" > "$WORK/record.json"
jq -r .trace "$WORK/record.json" > "$WORK/trace.txt"
expect_state canceled
[ "$elapsed" -lt 30 ] || fail "took ${elapsed}s after cancel"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
