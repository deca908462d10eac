#!/usr/bin/env bash
# Canceling a job whose script runs in the pod ends it promptly and deletes the pod
# (executors §1.6, §7.4 "Cancel"). While it runs, the pod in the API server has the
# official labels, containers and the service alias on 127.0.0.1.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
kube_job '[{"name":"script","script":["echo sleeping","sleep 120"],"timeout":600,"when":"on_success","allow_failure":false}]' \
  '"services":[{"name":"postgres:16","alias":"db","entrypoint":["sleep","600"]}],'
kube_start
wait_for 60 sh -c "[ -n \"\$(curl -fsS --cacert '$WORK/kube/ca.crt' -H 'Authorization: Bearer kube-e2e-token' '$KUBE_URL/api/v1/namespaces/default/pods' | jq -r '.items[].metadata.name')\" ]" \
  || fail "no pod appeared"
curl -fsS --cacert "$WORK/kube/ca.crt" -H "Authorization: Bearer kube-e2e-token" \
  "$KUBE_URL/api/v1/namespaces/default/pods" | jq '.items[0]' > "$WORK/pod.json"
[ "$(jq -c '[.spec.containers[].name]' "$WORK/pod.json")" = '["build","helper","db"]' ] ||
  fail "containers: $(jq -c '[.spec.containers[].name]' "$WORK/pod.json")"
[ "$(jq -c .spec.hostAliases "$WORK/pod.json")" = '[{"hostnames":["db","postgres"],"ip":"127.0.0.1"}]' ] ||
  fail "hostAliases: $(jq -c .spec.hostAliases "$WORK/pod.json")"
[ "$(jq -r '.metadata.labels["manager.runner.gitlab.com/id-short"]' "$WORK/pod.json")" = kubee2eto ] ||
  fail "labels: $(jq -c .metadata.labels "$WORK/pod.json")"
[ "$(jq -r '.metadata.labels["project.runner.gitlab.com/id"]' "$WORK/pod.json")" = 5 ] || fail "project label"
case "$(jq -r .metadata.name "$WORK/pod.json")" in
  runner-kubee2eto-project-5-concurrent-0-????????) ;;
  *) fail "pod name $(jq -r .metadata.name "$WORK/pod.json")" ;;
esac
sleep 1
kube_cancel
expect_state canceled
[ "$ELAPSED" -lt 30 ] || fail "took ${ELAPSED}s after cancel"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
