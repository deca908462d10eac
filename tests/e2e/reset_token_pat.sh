#!/usr/bin/env bash
# reset-token (api spec §1.6, §1.9): by name, by --url/--id, --all-runners, and with --pat
# by runner id after the old token expired; config.toml gets the new token and its
# token_obtained_at/token_expires_at, the old token stops working on the server.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST registration_tokens "GR1348941resettoken" >/dev/null
control POST pats "glpat-resetpat0000001" >/dev/null
control POST "token_lifetime?seconds=3600" >/dev/null
cfg="$WORK/config.toml"
token_of() { awk -v n="$1" '$1=="name" && $3=="\""n"\"" {f=1} f && $1=="token" {gsub(/"/,"",$3); print $3; exit}' "$cfg"; }
field_of() { awk -v n="$1" -v k="$2" '$1=="name" && $3=="\""n"\"" {f=1} f && $1==k {print $3; exit}' "$cfg"; }

run_expect 0 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" -r GR1348941resettoken --executor shell --name one
run_expect 0 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" -r GR1348941resettoken --executor shell --name two
[ "$(field_of one token_expires_at)" != "0001-01-01T00:00:00Z" ] || fail "expiry not stored"
id_two=$(field_of two id)

# By name.
old=$(token_of one)
run_expect 0 "$GLRUNNER" reset-token -c "$cfg" -n one
expect_contains "$WORK/err" "Resetting runner authentication token... succeeded"
expect_contains "$WORK/err" "Updated"
new=$(token_of one)
[ -n "$new" ] && [ "$new" != "$old" ] || fail "token of one not reset"
expect_not_contains "$WORK/err" "$new"
run_expect 0 "$GLRUNNER" verify -c "$cfg" -n one
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Content-Type: application/json" \
  --data "{\"token\":\"$old\"}" "${FAKE_URL}api/v4/runners/verify")
[ "$code" = 403 ] || fail "old token still valid ($code)"

# By --url and --id.
old2=$(token_of two)
run_expect 0 "$GLRUNNER" reset-token -c "$cfg" -u "$FAKE_URL" -i "$id_two"
[ "$(token_of two)" != "$old2" ] || fail "token of two not reset by id"
run_expect 1 "$GLRUNNER" reset-token -c "$cfg" -u "$FAKE_URL" -i 999999
expect_contains "$WORK/err" "no runner matches"
run_expect 1 "$GLRUNNER" reset-token -c "$cfg"
expect_contains "$WORK/err" "--all-runners"

# --all-runners.
a=$(token_of one); b=$(token_of two)
run_expect 0 "$GLRUNNER" reset-token -c "$cfg" --all-runners
[ "$(token_of one)" != "$a" ] && [ "$(token_of two)" != "$b" ] || fail "--all-runners missed one"

# An invalid token can't reset itself: exit 1, file unchanged; --pat resets it by id.
sed -i "s|token = \"$(token_of two)\"|token = \"t1_revokedtoken000000\"|" "$cfg"
before=$(cat "$cfg")
run_expect 1 "$GLRUNNER" reset-token -c "$cfg" -n two
expect_contains "$WORK/err" "check used token"
[ "$(cat "$cfg")" = "$before" ] || fail "failed reset changed the file"
run_expect 1 "$GLRUNNER" reset-token -c "$cfg" -n two --pat glpat-wrong
expect_contains "$WORK/err" "401"
run_expect 0 "$GLRUNNER" reset-token -c "$cfg" -n two --pat glpat-resetpat0000001
expect_not_contains "$WORK/err" "glpat-resetpat0000001"
[ "$(token_of two)" != "t1_revokedtoken000000" ] || fail "--pat did not reset"
run_expect 0 "$GLRUNNER" verify -c "$cfg" -n two
[ "$(control GET registered_runners | jq -r --argjson id "$id_two" '.[] | select(.id==$id) | .token_resets')" = 3 ] \
  || fail "server saw an unexpected number of resets"
[ "$(stat -c %a "$cfg")" = 600 ] || fail "config mode $(stat -c %a "$cfg")"
echo ok
