#!/usr/bin/env bash
# Docker executor pull policies and failures that must end the job quickly with the
# official failure reason: a missing image with pull_policy never, a job pull policy
# outside allowed_pull_policies (runner_configuration_error, not retried), a
# bad config value, an unreachable daemon (runner_system_failure), and an image
# without bash running in sh, a non-root build user.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/../support/docker/lib.sh"
docker_setup
start_fake_gitlab
control POST runners "glrt-t1_dockpull01" >/dev/null

run_job() {  # run_job CONFIG JOB_JSON -> sets STATE REASON, trace in $WORK/trace.txt
  local id
  id=$(control POST jobs "$2" | jq -r .id)
  run_expect 0 timeout 100 "$GLRUNNER" run-single -r docker-e2e -c "$1" --max-builds 1 --wait-timeout 60 -d "$WORK"
  control GET "jobs/$id" > "$WORK/record.json"
  jq -r .trace "$WORK/record.json" > "$WORK/trace.txt"
  STATE=$(jq -r .state "$WORK/record.json")
  REASON=$(jq -r .failure_reason "$WORK/record.json")
}

# never + missing image: configuration error, no retries.
docker_config "$WORK/never.toml" glrt-t1_dockpull01 'pull_policy = ["never"]'
run_job "$WORK/never.toml" "$(job_json glrunner-test/missing:1 '["true"]')"
[ "$STATE/$REASON" = failed/runner_configuration_error ] || { cat "$WORK/trace.txt"; fail "never: $STATE/$REASON"; }
expect_contains "$WORK/trace.txt" "Using effective pull policy of [never] for container glrunner-test/missing:1"
expect_contains "$WORK/trace.txt" "No such image: glrunner-test/missing:1"
expect_not_contains "$WORK/trace.txt" "Will be retried"

# never + present image, in an image without bash: the detect script falls back to sh.
run_job "$WORK/never.toml" "$(job_json glrunner-test/sh:1 '["echo \"$GREETING\"", "test ! -e /bin/bash && echo no-bash-here"]')"
[ "$STATE" = success ] || { cat "$WORK/trace.txt"; fail "sh image: $STATE/$REASON"; }
expect_contains "$WORK/trace.txt" "hello from the job"
expect_contains "$WORK/trace.txt" "no-bash-here"

# A non-root build user can write in the project directory copied into the container.
docker_config "$WORK/user.toml" glrt-t1_dockpull01 'user = "65534:65534"'
run_job "$WORK/user.toml" "$(job_json glrunner-test/sh:1 '["echo uid=$(id -u)", "echo x > written.txt", "cat written.txt"]')"
[ "$STATE" = success ] || { cat "$WORK/trace.txt"; fail "user: $STATE/$REASON"; }
expect_contains "$WORK/trace.txt" "uid=65534"

# The job asks for a policy the runner does not allow.
docker_config "$WORK/allowed.toml" glrt-t1_dockpull01 'allowed_pull_policies = ["never"]'
run_job "$WORK/allowed.toml" "$(job_json glrunner-test/sh:1 '["true"]' ',"x":0' | jq -c '.image.pull_policy = ["always"]')"
[ "$STATE/$REASON" = failed/runner_configuration_error ] || { cat "$WORK/trace.txt"; fail "allowed: $STATE/$REASON"; }
expect_contains "$WORK/trace.txt" "is not one of the allowed_pull_policies ([never])"

# A failing script: exit code wording of the docker executor.
run_job "$WORK/never.toml" "$(job_json glrunner-test/sh:1 '["exit 3"]')"
[ "$STATE/$REASON" = failed/script_failure ] || { cat "$WORK/trace.txt"; fail "exit 3: $STATE/$REASON"; }
expect_contains "$WORK/trace.txt" "ERROR: Job failed: exit code 3"

# Bad config value: a clear error naming the field.
docker_config "$WORK/bad.toml" glrt-t1_dockpull01 'memory = "12qq"'
run_job "$WORK/bad.toml" "$(job_json glrunner-test/sh:1 '["true"]')"
[ "$STATE/$REASON" = failed/runner_configuration_error ] || { cat "$WORK/trace.txt"; fail "bad config: $STATE/$REASON"; }
expect_contains "$WORK/trace.txt" '[runners.docker] memory: invalid size "12qq"'
expect_not_contains "$WORK/trace.txt" "Will be retried"

# An entrypoint that does not exist: the start fails, the job fails instead of
# waiting on the attach stream.
run_job "$WORK/never.toml" "$(job_json glrunner-test/sh:1 '["true"]' | jq -c '.image.entrypoint = ["/nonexistent"]')"
[ "$STATE" = failed ] || { cat "$WORK/trace.txt"; fail "bad entrypoint: $STATE/$REASON"; }
expect_contains "$WORK/trace.txt" "start build container"

# always + an unreachable registry: a network failure, retried, then
# runner_external_dependency_failure.
docker_config "$WORK/always.toml" glrt-t1_dockpull01 'pull_policy = ["always"]'
run_job "$WORK/always.toml" "$(job_json 127.0.0.1:1/glrunner-test/none:1 '["true"]')"
[ "$STATE/$REASON" = failed/runner_external_dependency_failure ] || { cat "$WORK/trace.txt"; fail "always: $STATE/$REASON"; }
expect_contains "$WORK/trace.txt" "Pulling docker image 127.0.0.1:1/glrunner-test/none:1 ..."
expect_contains "$WORK/trace.txt" "Will be retried"

# Unreachable daemon: system failure after the prepare retries, not a hang.
docker_config "$WORK/nodaemon.toml" glrt-t1_dockpull01 'host = "unix:///nonexistent/docker.sock"'
run_job "$WORK/nodaemon.toml" "$(job_json glrunner-test/sh:1 '["true"]')"
[ "$STATE/$REASON" = failed/runner_system_failure ] || { cat "$WORK/trace.txt"; fail "no daemon: $STATE/$REASON"; }
expect_contains "$WORK/trace.txt" "Cannot connect to the Docker daemon at unix:///nonexistent/docker.sock"

expect_no_leftovers dockpull0
echo ok
