#!/usr/bin/env bash
# kubectl get -w against fake-kube: the watch stream shows a pod's phases from creation to
# completion and its deletion (executors §7.4: the executor waits on pods by watching).
source "$(dirname "$0")/common.sh"
need_kubectl
start_fake_kube
kube_control POST "pod_start_delay?ms=500" >/dev/null

timeout 15 kubectl get pods -w --output-watch-events >"$WORK/watch" 2>"$WORK/watch.err" &
PIDS+=($!)
sleep 1
run_expect 0 kubectl run once --image=alpine --restart=Never -- sh -c 'echo done; exit 0'
done_phase() { [ "$(kubectl get pod once -o jsonpath='{.status.phase}')" = Succeeded ]; }
wait_for 20 done_phase || fail "pod never Succeeded: $(kubectl get pod once -o json)"
run_expect 0 kubectl logs once
expect_contains "$WORK/out" "done"
# logs -f follows a running container until it exits.
run_expect 0 kubectl run ticker --image=alpine --restart=Never -- sh -c 'for i in 1 2 3; do echo tick $i; sleep 0.2; done'
ticker_running() { [ "$(kubectl get pod ticker -o jsonpath='{.status.phase}')" != Pending ]; }
wait_for 20 ticker_running || fail "ticker never started"
run_expect 0 kubectl logs -f ticker
expect_contains "$WORK/out" "tick 3"
run_expect 0 kubectl delete pod once
seen() { grep -q "DELETED" "$WORK/watch"; }
wait_for 10 seen || fail "watch saw: $(cat "$WORK/watch") $(cat "$WORK/watch.err")"
expect_contains "$WORK/watch" "ADDED"
expect_contains "$WORK/watch" "ContainerCreating"
expect_contains "$WORK/watch" "Completed"
echo PASS
