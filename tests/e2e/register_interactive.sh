#!/usr/bin/env bash
# register without --non-interactive asks upstream's questions on stdin (api spec §1.7):
# every question shows the current value as "[value]: " and an empty answer keeps it;
# answers may be piped; at end of input given values are kept and a missing required one
# is an error; an unknown executor is asked again.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST registration_tokens "GR1348941asktoken" >/dev/null
control POST pats "glpat-askpat000000001" >/dev/null
cfg="$WORK/config.toml"

# Legacy token: url, token, description, tags, maintenance note, executor (a wrong one first).
printf '%s\n%s\n%s\n%s\n%s\n%s\n%s\n' "$FAKE_URL" GR1348941asktoken piped-runner "t1,t2" "asked note" nope shell \
  > "$WORK/answers"
run_expect 0 "$GLRUNNER" register -c "$cfg" < "$WORK/answers"
expect_contains "$WORK/out" "Enter the GitLab instance URL"
expect_contains "$WORK/out" "Enter a description for the runner:"
expect_contains "$WORK/out" "Enter tags for the runner (comma-separated):"
expect_contains "$WORK/out" "Enter optional maintenance note for the runner:"
expect_contains "$WORK/err" "Invalid executor specified"
expect_contains "$cfg" 'name = "piped-runner"'
control GET registered_runners > "$WORK/r.json"
[ "$(jq -r '.[] | select(.description=="piped-runner") | [.tag_list,.maintenance_note,.run_untagged] | join(",")' "$WORK/r.json")" \
  = "t1,t2,asked note,false" ] || fail "answers not sent: $(cat "$WORK/r.json")"

# glrt- token typed at the token question: verify, then the local name; docker asks its image.
tok=$(curl -fsS -X POST -H "PRIVATE-TOKEN: glpat-askpat000000001" -H "Content-Type: application/json" \
  --data '{"runner_type":"instance_type"}' "${FAKE_URL}api/v4/user/runners" | jq -r .token)
printf '%s\n%s\n%s\n%s\n%s\n' "$FAKE_URL" "$tok" local-name docker alpine:3.20 > "$WORK/answers"
run_expect 0 "$GLRUNNER" register -c "$cfg" < "$WORK/answers"
expect_contains "$WORK/out" "Enter a name for the runner. This is stored only in the local config.toml file:"
expect_contains "$WORK/out" "Enter the default Docker image"
expect_not_contains "$WORK/out" "Enter tags"
expect_contains "$cfg" 'name = "local-name"'
expect_contains "$cfg" 'image = "alpine:3.20"'
expect_contains "$cfg" '"/cache"'

# Values from flags are the defaults shown; empty answers and end of input keep them.
run_expect 0 "$GLRUNNER" register -c "$cfg" --url "$FAKE_URL" -r GR1348941asktoken --name kept \
  --executor shell < /dev/null
expect_contains "$WORK/out" "[kept]: "
expect_contains "$cfg" 'name = "kept"'

# End of input with a required answer missing: one message, exit 1, file unchanged.
before=$(cat "$cfg")
run_expect 1 "$GLRUNNER" register -c "$cfg" < /dev/null
expect_contains "$WORK/err" "Unexpected EOF. Did you mean to use --non-interactive?"
[ "$(cat "$cfg")" = "$before" ] || fail "file changed"
echo ok
