#!/usr/bin/env bash
# A broken config.toml is refused with file, line and key; the runner does not start.
source "$(dirname "$0")/common.sh"
cat > "$WORK/config.toml" <<'TOML'
concurrent = 2

[[runners]]
  name = "one"
  url = "http://127.0.0.1:1/"
  token = "glrt-abc"
  executor = "shell"
  limit = "many"
TOML
run_expect 1 "$GLRUNNER" run -c "$WORK/config.toml"
expect_contains "$WORK/err" "config.toml:8: runners[0].limit"
expect_contains "$WORK/err" "limit"
printf 'concurrent = 0\n' > "$WORK/zero.toml"
run_expect 1 "$GLRUNNER" run -c "$WORK/zero.toml"
expect_contains "$WORK/err" "concurrent"
printf '[[runners]\nname="x"\n' > "$WORK/syntax.toml"
run_expect 1 "$GLRUNNER" run -c "$WORK/syntax.toml"
expect_contains "$WORK/err" "syntax.toml:1"
echo ok
