#!/usr/bin/env bash
# unregister (api spec §1.5, §1.9): by name, by token, by --url/--token of a runner not in
# the file, and --all-runners (the Helm preStop hook). glrt- runners lose only this host's
# manager; legacy runners are deleted; a failure keeps the entry in config.toml.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST registration_tokens "GR1348941unregtoken" >/dev/null
control POST pats "glpat-unregpat0000001" >/dev/null
cfg="$WORK/config.toml"
reg() { run_expect 0 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" --executor shell "$@"; }
reg -r GR1348941unregtoken --name legacy-a
reg -r GR1348941unregtoken --name legacy-b
reg --pat glpat-unregpat0000001 --name created-c
runners() { control GET registered_runners; }
tok() { runners | jq -r --arg d "$1" '.[] | select(.description==$d) | .token'; }

# Neither name nor token: refused.
run_expect 1 "$GLRUNNER" unregister -c "$cfg"
expect_contains "$WORK/err" "--name or --token"
run_expect 1 "$GLRUNNER" unregister -c "$cfg" -n nobody
expect_contains "$WORK/err" "no runner matches"

# By token (from the env, as upstream); the legacy runner is deleted on the server.
CI_SERVER_TOKEN="$(tok legacy-a)" run_expect 0 "$GLRUNNER" unregister -c "$cfg"
expect_not_contains "$cfg" 'legacy-a'
[ "$(runners | jq -r '.[] | select(.description=="legacy-a") | .deleted')" = true ] || fail "legacy-a not deleted"

# A runner that is not in the file: --url and --token unregister it on the server only.
extra=$(curl -fsS -X POST -H "Content-Type: application/json" \
  --data '{"token":"GR1348941unregtoken","description":"extra"}' "${FAKE_URL}api/v4/runners" | jq -r .token)
run_expect 0 "$GLRUNNER" unregister -c "$cfg" --url "$FAKE_URL" --token "$extra"
[ "$(runners | jq -r '.[] | select(.description=="extra") | .deleted')" = true ] || fail "extra not deleted"

# --all-runners while GitLab refuses one of them: that entry stays, exit 1.
sed -i "s|token = \"$(tok legacy-b)\"|token = \"t1_notknownanymore0000\"|" "$cfg"
run_expect 1 "$GLRUNNER" unregister -c "$cfg" --all-runners
expect_contains "$WORK/err" "Unregistering all runners"
expect_contains "$cfg" 'legacy-b'
expect_not_contains "$cfg" 'created-c'
runners > "$WORK/r.json"
[ "$(jq -r '.[] | select(.description=="created-c") | .deleted' "$WORK/r.json")" = false ] || fail "glrt runner deleted"
[ "$(jq -r '.[] | select(.description=="created-c") | .managers | length' "$WORK/r.json")" = 0 ] || fail "manager kept"

# Nothing left that GitLab knows: remove the stale entry by name fails cleanly.
run_expect 1 "$GLRUNNER" unregister -c "$cfg" -n legacy-b
expect_contains "$cfg" 'legacy-b'
[ "$(stat -c %a "$cfg")" = 600 ] || fail "config mode $(stat -c %a "$cfg")"
echo ok
