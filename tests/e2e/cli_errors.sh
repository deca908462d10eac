#!/usr/bin/env bash
# Unknown flags and bad values: a clear message and exit code 1; --version and
# --help exit 0.
source "$(dirname "$0")/common.sh"
run_expect 0 "$GLRUNNER" --version
expect_contains "$WORK/out" "Version:"
run_expect 0 "$GLRUNNER" --help
expect_contains "$WORK/out" "run-single"
run_expect 1 "$GLRUNNER" run --no-such-flag
expect_contains "$WORK/err" "no-such-flag"
run_expect 1 "$GLRUNNER" run-single --max-builds notanumber
expect_contains "$WORK/err" "max-builds"
run_expect 1 "$GLRUNNER" --log-level loud list -c /nonexistent/config.toml
expect_contains "$WORK/err" "invalid log level"
run_expect 1 "$GLRUNNER" frobnicate
echo ok
