#!/usr/bin/env bash
# `list` prints each runner with its executor, token and URL, as the official command.
source "$(dirname "$0")/common.sh"
cat > "$WORK/config.toml" <<'TOML'
concurrent = 1
[[runners]]
  name = "alpha"
  url = "https://gitlab.example.com/"
  token = "glrt-t1_alphatoken"
  executor = "shell"
[[runners]]
  name = "beta"
  url = "https://gitlab.example.com/"
  token = "glrt-t1_betatoken"
  executor = "kubernetes"
  [runners.kubernetes]
    namespace = "ci"
TOML
run_expect 0 "$GLRUNNER" list -c "$WORK/config.toml"
expect_contains "$WORK/err" "Listing configured runners"
expect_contains "$WORK/err" "ConfigFile=$WORK/config.toml"
expect_contains "$WORK/err" "alpha"
expect_contains "$WORK/err" "Executor=kubernetes"
expect_contains "$WORK/err" "URL=https://gitlab.example.com/"
echo ok
