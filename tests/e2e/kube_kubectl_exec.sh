#!/usr/bin/env bash
# kubectl exec against fake-kube over the v5/v4 channel WebSocket: stdout, stderr, stdin and the
# exit code from the status channel (executors §7.4, legacy exec strategy), with bearer-token
# authentication on.
source "$(dirname "$0")/common.sh"
need_kubectl
start_fake_kube --token e2e-token

# Without the token the server answers 401 like a cluster does.
run_expect 1 kubectl --token=wrong get pods
expect_contains "$WORK/err" "provide credentials"

cat >"$WORK/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: box}
spec:
  restartPolicy: Never
  containers:
  - {name: build, image: alpine, command: [sleep, "300"], workingDir: /work, env: [{name: WHO, value: kube}]}
YAML
run_expect 0 kubectl apply -f "$WORK/pod.yaml"
running() { [ "$(kubectl get pod box -o jsonpath='{.status.phase}')" = Running ]; }
wait_for 20 running || fail "pod never Running"

run_expect 3 kubectl exec box -- sh -c 'echo hi; echo oops >&2; exit 3'
expect_contains "$WORK/out" "hi"
expect_contains "$WORK/err" "oops"
expect_contains "$WORK/err" "command terminated with exit code 3"

run_expect 0 kubectl exec box -c build -- sh -c 'echo "$WHO in $(basename "$PWD")"'
expect_contains "$WORK/out" "kube in work"

printf 'line one\nline two\n' >"$WORK/in"
set +e
timeout 60 kubectl exec -i box -- sh -c 'wc -l; cat >/dev/null; exit 0' <"$WORK/in" >"$WORK/out" 2>"$WORK/err"
rc=$?
set -e
[ "$rc" = 0 ] || fail "exec -i exited $rc: $(cat "$WORK/err")"
expect_contains "$WORK/out" "2"

run_expect 1 kubectl exec box -c nope -- true
expect_contains "$WORK/err" "not valid"
echo PASS
