#!/usr/bin/env bash
# A broken .gitlab-ci.yml is reported with file and line, exit 1, nothing runs.
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p" && cd "$WORK/p"
printf 'job:\n  stage: test\n  script: [echo hi]\n  scirpt_typo: 1\n' > .gitlab-ci.yml
run_expect 1 "$GLRUNNER" exec --no-color
expect_contains "$WORK/err" ".gitlab-ci.yml:"
expect_contains "$WORK/err" "scirpt_typo"
expect_not_contains "$WORK/out" "hi"
echo ok
