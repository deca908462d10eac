#!/usr/bin/env bash
# Docker executor against a daemon reached over tcp (the remote-daemon path: sources
# and scripts move through the archive API, nothing is bind-mounted from the runner
# host), with FF_NETWORK_PER_BUILD: the service is reached by its network alias on
# the per-build network, which is removed afterwards; the /cache volume is kept.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/../support/docker/lib.sh"
docker_setup
tcp_url="http://${DOCKER_TCP#tcp://}"
curl -fsS --max-time 3 "$tcp_url/_ping" >/dev/null 2>&1 ||
  { echo "SKIP: the running Docker daemon does not listen on $DOCKER_TCP"; exit 77; }
start_fake_gitlab
control POST runners "glrt-t1_dockremote" >/dev/null
docker_config "$WORK/config.toml" glrt-t1_dockremote "host = \"$DOCKER_TCP\"" 'volumes = ["/cache"]' \
  'container_labels = { "org.example.team" = "e2e" }'
echo "  [runners.feature_flags]" >>"$WORK/config.toml"
echo "    FF_NETWORK_PER_BUILD = true" >>"$WORK/config.toml"

id=$(control POST jobs "$(job_json glrunner-test/bash:1 \
  '["echo \"$GREETING\" > greeting.txt", "cat greeting.txt", "wget -qO- http://web/", "wget -qO- http://glrunner-test__httpd/"]' \
  ',"services":[{"name":"glrunner-test/httpd:1","alias":"web"}]')" | jq -r .id)
DOCKER_HOST=unix:///nonexistent.sock run_expect 0 "$GLRUNNER" run-single -r docker-e2e -c "$WORK/config.toml" \
  --max-builds 1 --wait-timeout 60 -d "$WORK"
control GET "jobs/$id" > "$WORK/record.json"
jq -r .trace "$WORK/record.json" > "$WORK/trace.txt"
[ "$(jq -r .state "$WORK/record.json")" = success ] || { cat "$WORK/trace.txt"; fail "job not successful"; }
expect_contains "$WORK/trace.txt" "hello from the job"
[ "$(grep -c service-ok "$WORK/trace.txt")" -ge 2 ] || { cat "$WORK/trace.txt"; fail "service not reached by both aliases"; }
expect_not_contains "$WORK/trace.txt" "probably didn't start properly"
# The /cache volume is the reusable U-cache-<md5> one: kept for the next job of this slot.
reusable=$(docker volume ls -q --filter label=com.gitlab.gitlab-runner.runner.id=dockremot)
case "$reusable" in runner-*-cache-*) ;; *) fail "expected one reusable cache volume, got: $reusable" ;; esac
docker volume inspect -f '{{index .Labels "com.gitlab.gitlab-runner.type"}}' "$reusable" | grep -q cache || fail "volume type label missing"
docker volume rm "$reusable" >/dev/null
expect_no_leftovers dockremot
docker network ls --format '{{.Name}}' | grep -q '^runner-dockremot-7-0-' && fail "per-build network left behind"
echo ok
