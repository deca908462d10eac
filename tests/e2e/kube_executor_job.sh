#!/usr/bin/env bash
# executor = "kubernetes" end to end: run-single creates the job pod in fake-kube through the
# real client, clones in the helper container, runs the script in the build container with the
# job's variables, masks secrets, reports success, and leaves no pod behind; the registry
# credentials secret is owned by the pod and goes with it.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
kube_job '[{"name":"script","script":["cat file.txt","echo \"$GREETING\"","echo pw=$PASSWORD","echo dir=$CI_PROJECT_DIR"],"timeout":600,"when":"on_success","allow_failure":false}]' \
  '"credentials":[{"type":"registry","url":"registry.example.com","username":"gitlab-ci-token","password":"reg-pass-123"}],'
kube_run 0
expect_state success
expect_contains "$WORK/trace.txt" "Using Kubernetes namespace: default"
expect_contains "$WORK/trace.txt" "Using Kubernetes executor with image alpine:3.20 ..."
expect_contains "$WORK/trace.txt" "the Pod activeDeadlineSeconds will be set to the job timeout: 10m0s..."
expect_contains "$WORK/trace.txt" "content from git"
expect_contains "$WORK/trace.txt" "hi there"
expect_contains "$WORK/trace.txt" "pw=[MASKED]"
# fake-kube maps the builds root (/builds) to the pod's repo volume directory.
expect_contains "$WORK/trace.txt" "/volumes/repo/group/project"
expect_not_contains "$WORK/trace.txt" "hunter2"
expect_contains "$WORK/trace.txt" "Job succeeded"
[ "$(jq -r .checksum_matches "$WORK/record.json")" = true ] || fail "checksum mismatch"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
wait_for 10 sh -c "[ -z \"\$(curl -fsS --cacert '$WORK/kube/ca.crt' -H 'Authorization: Bearer kube-e2e-token' '$KUBE_URL/api/v1/namespaces/default/secrets' | jq -r '.items[].metadata.name')\" ]" ||
  fail "secrets left behind: $(kube_names secrets)"
# The secret was made and owned by the pod, not deleted by the runner.
kube_control GET requests > "$WORK/requests.json"
grep -q 'POST /api/v1/namespaces/default/secrets' "$WORK/requests.json" || fail "no secret created: $(cat "$WORK/requests.json")"
grep -q 'PUT /api/v1/namespaces/default/secrets/' "$WORK/requests.json" || fail "secret not given an owner"
echo ok
