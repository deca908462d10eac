#!/usr/bin/env bash
# Automatic token rotation inside `run` (api spec §1.6): a token with 8 s of lifetime is
# reset at 75 % (6 s), config.toml gets the new token/obtained/expires, the runner keeps
# polling with it; FF_DISABLE_AUTOMATIC_TOKEN_ROTATION turns the reset into a warning.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST registration_tokens "GR1348941rotatetoken" >/dev/null
control POST "token_lifetime?seconds=8" >/dev/null
cfg="$WORK/config.toml"
run_expect 0 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" -r GR1348941rotatetoken --executor shell --name rotating
run_expect 0 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" -r GR1348941rotatetoken --executor shell --name pinned
# The second runner opts out.
printf '  [runners.feature_flags]\n    FF_DISABLE_AUTOMATIC_TOKEN_ROTATION = true\n' >> "$cfg"
token_of() { awk -v n="$1" '$1=="name" && $3=="\""n"\"" {f=1} f && $1=="token" {gsub(/"/,"",$3); print $3; exit}' "$cfg"; }
old=$(token_of rotating)
pinned=$(token_of pinned)
sed -i "s/^check_interval = .*/check_interval = 1/" "$cfg"

"$GLRUNNER" run -c "$cfg" -d "$WORK" >"$WORK/runner.out" 2>"$WORK/runner.err" &
runner=$!
PIDS+=("$runner")
new="$old"
for i in $(seq 1 200); do
  new=$(token_of rotating)
  [ -n "$new" ] && [ "$new" != "$old" ] && break
  sleep 0.1
done
[ "$new" != "$old" ] || fail "token not rotated within 20 s: $(cat "$WORK/runner.err")"
# Let the reload pick the new file up and a job request go out with the new token.
for i in $(seq 1 100); do
  control GET requests | jq -e --arg t "$new" 'map(select(.target=="/api/v4/jobs/request" and (.body | contains($t)))) | length > 0' >/dev/null && break
  sleep 0.1
done
control GET requests | jq -e --arg t "$new" 'map(select(.target=="/api/v4/jobs/request" and (.body | contains($t)))) | length > 0' >/dev/null \
  || fail "no job request with the rotated token"
kill -QUIT "$runner"
set +e
timeout 60 tail --pid="$runner" -f /dev/null
set -e
[ "$(token_of pinned)" = "$pinned" ] || fail "FF_DISABLE_AUTOMATIC_TOKEN_ROTATION ignored"
expect_not_contains "$WORK/runner.err" "$new"
expect_not_contains "$WORK/runner.out" "$new"
grep -q 'token_expires_at = 0001' "$cfg" && fail "expiry lost: $(cat "$cfg")"
[ "$(stat -c %a "$cfg")" = 600 ] || fail "config mode"
run_expect 0 "$GLRUNNER" list -c "$cfg"
echo ok
