#!/usr/bin/env bash
# retry re-runs a failed job up to max times on a matching reason or exit code; resource_group
# lets one job of a group run at a time (pipeline-yaml §9.7, §9.8).
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p" && cd "$WORK/p"
cat > .gitlab-ci.yml <<'YAML'
flaky:
  retry: 2
  script:
    - echo x >> "$STATE/flaky"
    - echo "attempt $(wc -l < "$STATE/flaky")"
    - test "$(wc -l < "$STATE/flaky")" -ge 2
wrong-code:
  retry:
    max: 2
    exit_codes: [137]
  script:
    - echo x >> "$STATE/wrong"
    - exit 3
  allow_failure: true
deploy-a:
  resource_group: production
  script:
    - mkdir "$STATE/lock" && echo "a holds the lock"
    - sleep 1
    - rmdir "$STATE/lock"
deploy-b:
  resource_group: production
  script:
    - mkdir "$STATE/lock" && echo "b holds the lock"
    - sleep 1
    - rmdir "$STATE/lock"
YAML
mkdir -p "$WORK/state"
run_expect 0 "$GLRUNNER" exec --no-color -j 4 --variable STATE="$WORK/state"
expect_contains "$WORK/out" "flaky attempt 1"
expect_contains "$WORK/out" "flaky attempt 2"
expect_not_contains "$WORK/out" "flaky attempt 3"
[ "$(wc -l < "$WORK/state/wrong")" = 1 ] || fail "wrong-code was retried"
expect_contains "$WORK/out" "deploy-a a holds the lock"
expect_contains "$WORK/out" "deploy-b b holds the lock"
echo ok
