#!/usr/bin/env bash
# Predefined stages run in the helper container and call /usr/bin/gitlab-runner-helper there
# (executors §7.1, §7.4): with glrunner as that binary (here a hostPath volume mounted at the
# helper's path, as glrunner's own image carries it) artifacts are uploaded from the pod.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/lib/kube_job.sh"
kube_setup "[[runners.kubernetes.volumes.host_path]]
      name = \"helper-binary\"
      mount_path = \"/usr/bin/gitlab-runner-helper\"
      host_path = \"$GLRUNNER\"
      read_only = true"
kube_job '[{"name":"script","script":["mkdir -p out","echo from-the-pod > out/a.txt"],"timeout":600,"when":"on_success","allow_failure":false}]' \
  '"artifacts":[{"name":"pod-art","paths":["out/"],"when":"on_success","artifact_type":"archive","artifact_format":"zip"}],'
kube_run 0
expect_state success
expect_contains "$WORK/trace.txt" "Uploading artifacts as \"archive\" to coordinator... 201 Created"
control GET artifacts/0 > "$WORK/art.zip"
[ "$(unzip -p "$WORK/art.zip" out/a.txt)" = from-the-pod ] || fail "artifact content: $(unzip -l "$WORK/art.zip")"
[ -z "$(kube_names pods)" ] || fail "pods left behind: $(kube_names pods)"
echo ok
