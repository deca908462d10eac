#!/usr/bin/env bash
# `glrunner exec` runs the bundled example pipeline: stages in order, default
# before_script, after_script with CI_JOB_STATUS, a summary, exit 0.
source "$(dirname "$0")/common.sh"
cp -r "$(dirname "$0")/../../examples/hello" "$WORK/hello"
cd "$WORK/hello"
run_expect 0 "$GLRUNNER" exec --no-color
expect_contains "$WORK/out" "build Hello, world!"
expect_contains "$WORK/out" "test greeting checked"
expect_contains "$WORK/out" "test after_script sees CI_JOB_STATUS=success"
expect_contains "$WORK/out" "build \$ echo \"\$GREETING, \$TARGET!\""
expect_contains "$WORK/out" "preparing build in stage build"
expect_contains "$WORK/out" "Job succeeded"
# build finished before test started (stage order).
build_line=$(grep -n "build Job succeeded" "$WORK/out" | cut -d: -f1)
test_line=$(grep -n "test \$ test" "$WORK/out" | head -1 | cut -d: -f1)
[ "$build_line" -lt "$test_line" ] || fail "test started before build finished"
echo ok
