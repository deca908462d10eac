#!/usr/bin/env bash
# register (legacy token, glrt- token, --pat one-step), verify, reset-token and
# unregister against the fake GitLab; config.toml written 0600 with other runners
# and unknown sections kept (api spec §1.2-§1.7, §1.9).
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST registration_tokens "GR1348941legacyregtoken" >/dev/null
control POST pats "glpat-adminpat123456" >/dev/null
cfg="$WORK/etc/config.toml"
mkdir -p "$WORK/etc"
cat > "$cfg" <<TOML
concurrent = 4

[session_server]
  session_timeout = 900

[[runners]]
  name = "existing"
  url = "http://127.0.0.1:1/"
  token = "glrt-t1_existingtoken"
  executor = "shell"
  [runners.custom_thing]
    keep = "me"
TOML

# 1. legacy registration token -> POST /runners
run_expect 0 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" -r GR1348941legacyregtoken \
  --executor shell --name legacy-one --tag-list a,b --limit 2
expect_contains "$WORK/err" "Registering runner... succeeded"
expect_contains "$WORK/err" "Runner registered successfully"
[ "$(stat -c %a "$cfg")" = 600 ] || fail "config mode $(stat -c %a "$cfg")"
[ -f "$WORK/etc/.runner_system_id" ] || fail "no .runner_system_id"
expect_contains "$cfg" 'name = "legacy-one"'
expect_contains "$cfg" 'limit = 2'
expect_contains "$cfg" 'name = "existing"'
expect_contains "$cfg" 'keep = '
expect_contains "$cfg" 'session_timeout = 900'
control GET registered_runners > "$WORK/runners.json"
[ "$(jq -r '.[0].tag_list' "$WORK/runners.json")" = "a,b" ] || fail "tags not sent"

# 2. glrt- token from the PAT API, fed to register (the reference setup)
tok=$(curl -fsS -X POST -H "PRIVATE-TOKEN: glpat-adminpat123456" -H "Content-Type: application/json" \
  --data '{"runner_type":"instance_type","tag_list":"shared,test"}' "${FAKE_URL}api/v4/user/runners" | jq -r .token)
case "$tok" in glrt-*) ;; *) fail "PAT API gave $tok" ;; esac
CI_SERVER_URL="$FAKE_URL" CI_SERVER_TOKEN="$tok" RUNNER_EXECUTOR=kubernetes RUNNER_NAME=k8s \
  KUBERNETES_NAMESPACE=ci run_expect 0 "$GLRUNNER" register --non-interactive -c "$cfg" \
  --kubernetes-privileged=true
expect_contains "$WORK/err" "Verifying runner... is valid"
expect_contains "$cfg" 'namespace = '
expect_contains "$cfg" 'privileged = true'
# server-owned options are refused with --token
run_expect 1 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" -t "$tok" --executor shell --tag-list x
expect_contains "$WORK/err" "reserved"

# 3. one step with a PAT (glrunner extension); the token is never printed
run_expect 0 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" --pat glpat-adminpat123456 \
  --runner-type project_type --project-id 42 --executor shell --name pat-made
created=$(control GET registered_runners | jq -r '.[] | select(.runner_type=="project_type") | .token')
[ -n "$created" ] || fail "PAT runner not created"
expect_not_contains "$WORK/err" "$created"
expect_not_contains "$WORK/out" "$created"
expect_contains "$cfg" "$created"
run_expect 1 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" --pat glpat-wrong --executor shell
expect_contains "$WORK/err" "401"

# 4. verify all four: the existing one points at a closed port, which is logged as failed
# but is not a removed runner, so the exit code stays 0 like upstream (§1.4, §1.9)
run_expect 0 "$GLRUNNER" verify -c "$cfg"
expect_contains "$WORK/err" "Verifying runner... is valid"
expect_contains "$WORK/err" "Verifying runner... failed"
run_expect 0 "$GLRUNNER" verify -c "$cfg" -n pat-made

# 5. reset-token rewrites the file and the old token stops working
old=$(grep -A4 'name = "legacy-one"' "$cfg" | sed -n 's/.*token = "\(.*\)"/\1/p' | head -1)
run_expect 0 "$GLRUNNER" reset-token -c "$cfg" -n legacy-one
new=$(grep -A4 'name = "legacy-one"' "$cfg" | sed -n 's/.*token = "\(.*\)"/\1/p' | head -1)
[ -n "$new" ] && [ "$new" != "$old" ] || fail "token not rotated ($old -> $new)"

# 6. unregister: legacy runner deleted on the server; glrt- runner keeps the runner, drops the manager
run_expect 0 "$GLRUNNER" unregister -c "$cfg" -n legacy-one
expect_not_contains "$cfg" 'legacy-one'
[ "$(control GET registered_runners | jq -r '.[0].deleted')" = true ] || fail "legacy runner not deleted"
run_expect 0 "$GLRUNNER" unregister -c "$cfg" -n k8s
control GET registered_runners > "$WORK/runners.json"
[ "$(jq -r --arg t "$tok" '.[] | select(.token==$t) | .deleted' "$WORK/runners.json")" = false ] || fail "glrt runner deleted"
[ "$(jq -r --arg t "$tok" '.[] | select(.token==$t) | .managers | length' "$WORK/runners.json")" = 0 ] || fail "manager kept"
expect_contains "$cfg" 'name = "existing"'
# 7. bad inputs: a broken config is refused and left untouched
printf 'concurrent = "x"\n' > "$WORK/bad.toml"
run_expect 1 "$GLRUNNER" register -n -c "$WORK/bad.toml" --url "$FAKE_URL" -r GR1348941legacyregtoken --executor shell
[ "$(cat "$WORK/bad.toml")" = 'concurrent = "x"' ] || fail "broken config was rewritten"
run_expect 1 "$GLRUNNER" register -n -c "$cfg" --url "$FAKE_URL" -r GR-wrong --executor shell
expect_contains "$WORK/err" "forbidden"
run_expect 1 "$GLRUNNER" register -n -c "$cfg" --url http://127.0.0.1:1/ -r GR1348941legacyregtoken --executor shell
expect_contains "$WORK/err" "failed"
echo ok
