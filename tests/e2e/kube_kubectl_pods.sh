#!/usr/bin/env bash
# kubectl against fake-kube: namespaces, apply a pod, its stored fields and status, logs,
# label selectors and delete (executors §7.4: the API the Kubernetes executor relies on).
source "$(dirname "$0")/common.sh"
need_kubectl
start_fake_kube

run_expect 0 kubectl get ns
expect_contains "$WORK/out" "default"
expect_contains "$WORK/out" "Active"

cat >"$WORK/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: x}
spec:
  restartPolicy: Never
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: main
    image: alpine:3.20
    command: [sh, -c, 'echo started $GREETING; echo $GREETING > /data/f; sleep 60']
    env: [{name: GREETING, value: hello}]
    volumeMounts: [{name: data, mountPath: /data}]
YAML
run_expect 0 kubectl apply -f "$WORK/pod.yaml"
expect_contains "$WORK/out" "pod/web created"

running() { [ "$(kubectl get pod web -o jsonpath='{.status.phase}')" = Running ]; }
wait_for 20 running || fail "pod web never Running"

run_expect 0 kubectl get pod web -o json
jq -e '.metadata.uid != "" and .metadata.resourceVersion != "" and .metadata.creationTimestamp != ""' \
  "$WORK/out" >/dev/null || fail "metadata not filled: $(cat "$WORK/out")"
jq -e '.metadata.labels.app == "x" and .spec.containers[0].image == "alpine:3.20"' "$WORK/out" \
  >/dev/null || fail "spec/labels not stored"
jq -e '.status.containerStatuses[0].ready == true and .status.containerStatuses[0].state.running' \
  "$WORK/out" >/dev/null || fail "container not ready: $(jq .status "$WORK/out")"

run_expect 0 kubectl get pods
expect_contains "$WORK/out" "1/1"
expect_contains "$WORK/out" "Running"

logs_ready() { kubectl logs web | grep -q "started hello"; }
wait_for 10 logs_ready || fail "logs: $(kubectl logs web 2>&1)"

# The emptyDir mounted at /data is shared with exec'd commands.
run_expect 0 kubectl exec web -- cat /data/f
expect_contains "$WORK/out" "hello"

run_expect 0 kubectl get pods -l app=x -o name
expect_contains "$WORK/out" "pod/web"
run_expect 0 kubectl get pods -l 'app in (y,z)' -o name
expect_not_contains "$WORK/out" "pod/web"
run_expect 0 kubectl get pods -l 'app!=x' -o name
expect_not_contains "$WORK/out" "pod/web"

# A second create of the same name is 409 AlreadyExists.
run_expect 1 kubectl create -f "$WORK/pod.yaml"
expect_contains "$WORK/err" "AlreadyExists"

# apply again changes a stored object (client-side apply patches it; server-side apply too).
cat >"$WORK/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, labels: {v: "1"}}
data: {a: "1"}
YAML
run_expect 0 kubectl apply -f "$WORK/cm.yaml"
sed -i 's/v: "1"/v: "2"/; s/a: "1"/a: "2", b: "3"/' "$WORK/cm.yaml"
run_expect 0 kubectl apply -f "$WORK/cm.yaml"
expect_contains "$WORK/out" "configmap/cfg configured"
sed -i 's/v: "2"/v: "3"/' "$WORK/cm.yaml"
run_expect 0 kubectl apply --server-side -f "$WORK/cm.yaml"
run_expect 0 kubectl get cm cfg -o jsonpath='{.metadata.labels.v} {.data.b}'
expect_contains "$WORK/out" "3 3"

run_expect 0 kubectl delete pod web --grace-period=5
expect_contains "$WORK/out" 'pod "web" deleted'
run_expect 1 kubectl get pod web
expect_contains "$WORK/err" 'pods "web" not found'
echo PASS
