#!/usr/bin/env bash
# verify as the Helm chart's check-live probe uses it (api spec §1.4, §1.9, §9.3), invoked as
# `gitlab-runner`: exit 0 while every runner is valid or GitLab is merely unreachable or
# answers 422; non-zero once a runner is gone (403); --delete drops it from config.toml.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST registration_tokens "GR1348941verifytoken" >/dev/null
control POST pats "glpat-verifypat000001" >/dev/null
ln -s "$GLRUNNER" "$WORK/gitlab-runner"
GR="$WORK/gitlab-runner"
cfg="$WORK/config.toml"

run_expect 0 "$GR" register -n -c "$cfg" --url "$FAKE_URL" -r GR1348941verifytoken --executor shell --name legacy
run_expect 0 "$GR" register -n -c "$cfg" --url "$FAKE_URL" --pat glpat-verifypat000001 --executor shell --name created
control GET registered_runners > "$WORK/runners.json"
legacy_id=$(jq -r '.[] | select(.description=="legacy") | .id' "$WORK/runners.json")
created_id=$(jq -r '.[] | select(.description=="created") | .id' "$WORK/runners.json")
created_token=$(jq -r '.[] | select(.description=="created") | .token' "$WORK/runners.json")

# All valid: exit 0, one line per runner.
run_expect 0 "$GR" verify -c "$cfg"
expect_contains "$WORK/err" "Verifying runner... is alive"
expect_contains "$WORK/err" "Verifying runner... is valid"
expect_not_contains "$WORK/err" "$created_token"

# A stray CI_SERVER_URL/CI_SERVER_TOKEN does not narrow verify (no env vars, as upstream).
CI_SERVER_URL=http://127.0.0.1:1/ CI_SERVER_TOKEN=nope run_expect 0 "$GR" verify -c "$cfg"
expect_contains "$WORK/err" "runner_name=created"

# Selectors: a name that matches nothing fails.
run_expect 1 "$GR" verify -c "$cfg" -n nobody
expect_contains "$WORK/err" "No runner matches"
run_expect 0 "$GR" verify -c "$cfg" -n legacy
expect_not_contains "$WORK/err" "runner_name=created"

# 422 (orphaned) and a server error are "failed", not "removed": still exit 0.
control POST "runner_orphaned?id=$created_id&value=1" >/dev/null
run_expect 0 "$GR" verify -c "$cfg"
expect_contains "$WORK/err" "Verifying runner... failed"
expect_contains "$WORK/err" "422"
control POST "runner_orphaned?id=$created_id&value=0" >/dev/null
# 503 for all 5 attempts (§0.3) of both runners' verify calls.
control POST faults '{"endpoint":"any","status":503,"count":10}' >/dev/null
run_expect 0 "$GR" verify -c "$cfg"
expect_contains "$WORK/err" "Verifying runner... failed"
expect_contains "$WORK/err" "503"

# Unreachable GitLab: failed, exit 0 (a pod restart would not help).
sed "s|$FAKE_URL|http://127.0.0.1:1/|" "$cfg" > "$WORK/down.toml"
run_expect 0 "$GR" verify -c "$WORK/down.toml"
expect_contains "$WORK/err" "Verifying runner... failed"

# The legacy runner is deleted on the server: is removed, exit 1, file untouched.
legacy_token=$(jq -r '.[] | select(.description=="legacy") | .token' "$WORK/runners.json")
curl -fsS -X DELETE -H "Content-Type: application/json" --data "{\"token\":\"$legacy_token\"}" \
  "${FAKE_URL}api/v4/runners" >/dev/null
before=$(cat "$cfg")
run_expect 1 "$GR" verify -c "$cfg"
expect_contains "$WORK/err" "Verifying runner... is removed"
[ "$(cat "$cfg")" = "$before" ] || fail "verify without --delete changed the file"

# --delete removes it and keeps the other runner.
run_expect 0 "$GR" verify -c "$cfg" --delete
expect_not_contains "$cfg" 'name = "legacy"'
expect_contains "$cfg" 'name = "created"'
[ "$(stat -c %a "$cfg")" = 600 ] || fail "config mode $(stat -c %a "$cfg")"
run_expect 0 "$GR" verify -c "$cfg"

# A missing or broken config is an error.
run_expect 1 "$GR" verify -c "$WORK/missing.toml"
printf 'concurrent = "x"\n' > "$WORK/bad.toml"
run_expect 1 "$GR" verify -c "$WORK/bad.toml"
expect_contains "$WORK/err" "bad.toml"
echo "ok (legacy id $legacy_id)"
