#!/usr/bin/env bash
# register merges --template-config like the official runner (flags win, the template
# fills the rest, its token is dropped), prompts on a terminal, and refuses 410 and
# unwritable configs with one clear message and nothing half-written (api spec §1.3, §1.7).
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST registration_tokens "GR1348941tmpltoken" >/dev/null
cat > "$WORK/template.toml" <<'TOML'
[[runners]]
  token = "glrt-from-template-must-be-dropped"
  limit = 7
  builds_dir = "/from/template"
  [runners.kubernetes]
    namespace = "tmpl-ns"
    image = "alpine:3.20"
TOML
cfg="$WORK/config.toml"
REGISTRATION_TOKEN=GR1348941tmpltoken TEMPLATE_CONFIG_FILE="$WORK/template.toml" \
  run_expect 0 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" --executor kubernetes \
  --name tmpl --builds-dir /from/flags
expect_contains "$cfg" 'limit = 7'
expect_contains "$cfg" 'builds_dir = "/from/flags"'
expect_contains "$cfg" 'tmpl-ns'
expect_not_contains "$cfg" 'glrt-from-template'

# Interactive: answers typed at the prompts of a real terminal.
printf '%s\n%s\n%s\n\n\n%s\n' "$FAKE_URL" GR1348941tmpltoken typed-name shell > "$WORK/answers"
script -qec "$GLRUNNER register -c $cfg" /dev/null < "$WORK/answers" > "$WORK/tty.out" 2>&1 || { cat "$WORK/tty.out"; fail "interactive register failed"; }
expect_contains "$WORK/tty.out" "Enter the GitLab instance URL"
expect_contains "$cfg" 'name = "typed-name"'

# 410: registration tokens disabled on the instance.
control POST "registration_disabled?value=1" >/dev/null
before=$(cat "$cfg")
run_expect 1 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" -r GR1348941tmpltoken --executor shell
expect_contains "$WORK/err" "registration tokens are disabled"
[ "$(cat "$cfg")" = "$before" ] || fail "config changed after a refused registration"
control POST "registration_disabled?value=0" >/dev/null

# Unwritable target: the runner created on the server is removed again.
mkdir -p "$WORK/ro" && touch "$WORK/ro/config.toml"
chattr +i "$WORK/ro/config.toml" 2>/dev/null || { echo "skip: chattr unavailable"; echo ok; exit 0; }
run_expect 1 "$GLRUNNER" register -n -c "$WORK/ro/config.toml" --url "$FAKE_URL" -r GR1348941tmpltoken --executor shell --name ro
chattr -i "$WORK/ro/config.toml"
expect_contains "$WORK/err" "Saving configuration failed"
last=$(control GET registered_runners | jq -r '.[-1].deleted')
[ "$last" = true ] || fail "runner left behind on the server"
echo ok
