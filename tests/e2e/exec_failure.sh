#!/usr/bin/env bash
# A failing job fails the pipeline (exit 1); on_failure jobs run, later
# on_success jobs do not; allow_failure does not fail the pipeline.
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p" && cd "$WORK/p"
cat > .gitlab-ci.yml <<'YAML'
stages: [one, two, three]
allowed:
  stage: one
  allow_failure: true
  script: [exit 7]
broken:
  stage: one
  script:
    - echo before-fail
    - exit 3
    - echo never-printed
  after_script:
    - echo "after status=$CI_JOB_STATUS"
notify:
  stage: two
  when: on_failure
  script: [echo notified]
deploy:
  stage: three
  script: [echo deployed]
always:
  stage: three
  when: always
  script: [echo always-ran]
YAML
run_expect 1 "$GLRUNNER" exec --no-color
expect_contains "$WORK/out" "broken before-fail"
expect_not_contains "$WORK/out" "never-printed"
expect_contains "$WORK/out" "broken after status=failed"
expect_contains "$WORK/out" "ERROR: Job failed: exit status 3"
expect_contains "$WORK/out" "notify notified"
expect_contains "$WORK/out" "always always-ran"
expect_not_contains "$WORK/out" "deployed"
echo ok
