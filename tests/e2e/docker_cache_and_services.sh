#!/usr/bin/env bash
# Docker executor without a helper image: a file the script writes inside the build
# container reaches the host-side archive_cache stage (copied back through the
# archive API) and the next job restores it into its container. A service that never
# becomes healthy prints the official warning block and the job goes on.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/../support/docker/lib.sh"
docker_setup
start_fake_gitlab
control POST runners "glrt-t1_dockcache1" >/dev/null
docker_config "$WORK/config.toml" glrt-t1_dockcache1 "wait_for_services_timeout = 3"

cache='"cache":[{"key":"deps","paths":["vendor/"],"policy":"pull-push","when":"on_success"}]'
id1=$(control POST jobs "$(job_json glrunner-test/sh:1 \
  '["mkdir -p vendor", "echo cached-in-container > vendor/gem.rb"]' ",$cache")" | jq -r .id)
run_expect 0 "$GLRUNNER" run-single -r docker-e2e -c "$WORK/config.toml" --max-builds 1 --wait-timeout 60 -d "$WORK"
control GET "jobs/$id1" > "$WORK/record1.json"
jq -r .trace "$WORK/record1.json" > "$WORK/trace1.txt"
[ "$(jq -r .state "$WORK/record1.json")" = success ] || { cat "$WORK/trace1.txt"; fail "job 1 failed"; }
expect_contains "$WORK/trace1.txt" "Creating cache deps..."
expect_contains "$WORK/trace1.txt" "vendor/: found 2 matching artifact files and directories"
expect_contains "$WORK/trace1.txt" "Created cache"
find "$WORK/docker-cache" -name cache.zip | grep -q deps || fail "no cache archive under docker-cache"

id2=$(control POST jobs "$(job_json glrunner-test/sh:1 '["cat vendor/gem.rb"]' \
  ",$cache,\"services\":[{\"name\":\"glrunner-test/httpd:1\",\"variables\":[{\"key\":\"HEALTHCHECK_TCP_PORT\",\"value\":\"81\"}]}]")" | jq -r .id)
run_expect 0 "$GLRUNNER" run-single -r docker-e2e -c "$WORK/config.toml" --max-builds 1 --wait-timeout 60 -d "$WORK"
control GET "jobs/$id2" > "$WORK/record2.json"
jq -r .trace "$WORK/record2.json" > "$WORK/trace2.txt"
[ "$(jq -r .state "$WORK/record2.json")" = success ] || { cat "$WORK/trace2.txt"; fail "job 2 failed"; }
expect_contains "$WORK/trace2.txt" "Waiting for services to be up and running (timeout 3 seconds)..."
expect_contains "$WORK/trace2.txt" "probably didn't start properly."
expect_contains "$WORK/trace2.txt" "Health check error:"
expect_contains "$WORK/trace2.txt" "Successfully extracted cache"
expect_contains "$WORK/trace2.txt" "cached-in-container"
expect_no_leftovers dockcache
echo ok
