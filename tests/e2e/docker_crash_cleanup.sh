#!/usr/bin/env bash
# Docker executor: containers, networks and per-job volumes a crashed runner left
# behind (found by the official labels and this runner's short token) are removed
# when `run` starts; other runners' resources and reusable cache volumes are kept.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/../support/docker/lib.sh"
docker_setup
start_fake_gitlab
control POST runners "glrt-t1_dockcrash1" >/dev/null
docker_config "$WORK/config.toml" glrt-t1_dockcrash1

mine=(--label com.gitlab.gitlab-runner.managed=true --label com.gitlab.gitlab-runner.runner.id=dockcrash)
other=(--label com.gitlab.gitlab-runner.managed=true --label com.gitlab.gitlab-runner.runner.id=someother)
suffix=$$
docker create "${mine[@]}" --name "runner-dockcrash-stale-$suffix" glrunner-test/sh:1 true >/dev/null
docker network create "${mine[@]}" "runner-dockcrash-net-$suffix" >/dev/null
docker volume create "${mine[@]}" "runner-dockcrash-project-7-concurrent-0-0123456789abcdef-cache-$suffix" >/dev/null
keep_volume="runner-0123456789abcdef0123456789abcdef-cache-$(printf '%032d' "$suffix")"
docker volume create "${mine[@]}" "$keep_volume" >/dev/null
docker create "${other[@]}" --name "runner-other-$suffix" glrunner-test/sh:1 true >/dev/null

"$GLRUNNER" run -c "$WORK/config.toml" -d "$WORK" >"$WORK/run.out" 2>&1 &
runner=$!
PIDS+=($runner)
for _ in $(seq 1 100); do
  [ -z "$(docker ps -aq --filter "name=runner-dockcrash-stale-$suffix")" ] && break
  sleep 0.2
done
kill -TERM "$runner"
wait "$runner" || true

[ -z "$(docker ps -aq --filter "name=runner-dockcrash-stale-$suffix")" ] || fail "stale container kept"
docker network inspect "runner-dockcrash-net-$suffix" >/dev/null 2>&1 && fail "stale network kept"
docker volume inspect "runner-dockcrash-project-7-concurrent-0-0123456789abcdef-cache-$suffix" >/dev/null 2>&1 &&
  fail "stale per-job volume kept"
docker volume inspect "$keep_volume" >/dev/null 2>&1 || fail "reusable cache volume removed"
docker inspect "runner-other-$suffix" >/dev/null 2>&1 || fail "another runner's container removed"
docker rm -f "runner-other-$suffix" >/dev/null
docker volume rm "$keep_volume" >/dev/null
echo ok
