#!/usr/bin/env bash
# A bad [runners.kubernetes] value stops run-single with the file, line and key; a runner
# without any reachable cluster fails its job as a system failure instead of hanging.
source "$(dirname "$0")/common.sh"
cat > "$WORK/config.toml" <<'TOML'
[[runners]]
  name = "kube"
  url = "http://127.0.0.1:1/"
  token = "glrt-t1_kubee2etok1"
  executor = "kubernetes"
  [runners.kubernetes]
    image = "alpine"
    privileged = "yes"
TOML
run_expect 1 "$GLRUNNER" run-single -c "$WORK/config.toml" --runner kube --max-builds 1 --wait-timeout 5
expect_contains "$WORK/err" "config.toml:8: runners[0].kubernetes.privileged: expected boolean, got string \"yes\""

start_fake_gitlab
control POST runners "glrt-t1_kubee2etok1" >/dev/null
cat > "$WORK/config.toml" <<TOML
[[runners]]
  name = "kube"
  url = "$FAKE_URL"
  token = "glrt-t1_kubee2etok1"
  executor = "kubernetes"
  [runners.kubernetes]
    host = "https://127.0.0.1:1"
    image = "alpine"
    ca_file = "$WORK/missing-ca.crt"
TOML
id=$(control POST jobs '{"id":0,"token":"","job_info":{"name":"j","project_id":5},"git_info":{"repo_url":"http://127.0.0.1/g/p.git","sha":"0000000000000000000000000000000000000000"},"runner_info":{"timeout":60},"variables":[],"steps":[{"name":"script","script":["true"],"timeout":60,"when":"on_success"}],"features":{"failure_reasons":["runner_system_failure"]}}' | jq -r .id)
run_expect 0 "$GLRUNNER" run-single -c "$WORK/config.toml" --runner kube --max-builds 1 --wait-timeout 30 -d "$WORK"
control GET "jobs/$id" > "$WORK/record.json"
[ "$(jq -r .state "$WORK/record.json")" = failed ] || fail "state $(jq -r .state "$WORK/record.json")"
jq -r .trace "$WORK/record.json" > "$WORK/trace.txt"
expect_contains "$WORK/trace.txt" "missing-ca.crt"
echo ok
