#!/usr/bin/env bash
# executor = "kubernetes" end to end: run-single creates the job pod in fake-kube through the
# real client, clones in the helper container, runs the script in the build container with the
# job's variables, masks secrets, reports success, and leaves no pod behind.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup
kube_job '[{"name":"script","script":["cat file.txt","echo \"$GREETING\"","echo pw=$PASSWORD","echo dir=$CI_PROJECT_DIR"],"timeout":600,"when":"on_success","allow_failure":false}]'
kube_run 0
expect_state success
expect_contains "$WORK/trace.txt" "Using Kubernetes namespace: default"
expect_contains "$WORK/trace.txt" "Using Kubernetes executor with image alpine:3.20 ..."
expect_contains "$WORK/trace.txt" "content from git"
expect_contains "$WORK/trace.txt" "hi there"
expect_contains "$WORK/trace.txt" "pw=[MASKED]"
# fake-kube maps the builds root (/builds) to the pod's repo volume directory.
expect_contains "$WORK/trace.txt" "/volumes/repo/group/project"
expect_not_contains "$WORK/trace.txt" "hunter2"
expect_contains "$WORK/trace.txt" "Job succeeded"
[ "$(jq -r .checksum_matches "$WORK/record.json")" = true ] || fail "checksum mismatch"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
[ -z "$(kube_names secrets)" ] || fail "secrets left behind: $(kube_names secrets)"
echo ok
