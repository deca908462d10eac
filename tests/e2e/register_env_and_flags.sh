#!/usr/bin/env bash
# register's flags and env vars end to end (api spec §1.3, §1.7, §9.3): the Helm entrypoint's
# `gitlab-runner register --template-config ... --non-interactive` with KUBERNETES_* env vars
# over a template that sets the same keys, server-side options reaching POST /runners,
# --pat for group and project runners, and the written file loading back.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST registration_tokens "GR1348941flagstoken" >/dev/null
control POST pats "glpat-flagspat00000001" >/dev/null
ln -s "$GLRUNNER" "$WORK/gitlab-runner"
GR="$WORK/gitlab-runner"
cfg="$WORK/config.toml"
runner_json() { control GET registered_runners | jq -c --arg d "$1" '.[] | select(.description==$d)'; }

# 1. Helm style: env only, template with the same kubernetes keys; env/flags win.
cat > "$WORK/config.template.toml" <<'TOML'
[[runners]]
  [runners.kubernetes]
    namespace = "from-template"
    image = "alpine:3.20"
    privileged = false
    [runners.kubernetes.node_selector]
      "kubernetes.io/os" = "linux"
  [runners.cache]
    Type = "s3"
    [runners.cache.s3]
      BucketLocation = "eu-west-1"
TOML
CI_SERVER_URL="$FAKE_URL" REGISTRATION_TOKEN=GR1348941flagstoken RUNNER_EXECUTOR=kubernetes \
  RUNNER_NAME=helm-runner RUNNER_TAG_LIST=k8s,linux REGISTER_LOCKED=false REGISTER_RUN_UNTAGGED=true \
  REGISTER_ACCESS_LEVEL=ref_protected REGISTER_MAXIMUM_TIMEOUT=3600 REGISTER_PAUSED=true \
  REGISTER_MAINTENANCE_NOTE="owned by ci-team" KUBERNETES_NAMESPACE=ci-jobs KUBERNETES_PRIVILEGED=true \
  KUBERNETES_CPU_LIMIT=2 KUBERNETES_POLL_TIMEOUT=360 CACHE_S3_BUCKET_NAME=runner-cache \
  CACHE_SHARED=true RUNNER_LIMIT=3 RUNNER_OUTPUT_LIMIT=8192 RUNNER_REQUEST_CONCURRENCY=2 \
  RUNNER_BUILDS_DIR=/builds RUNNER_CACHE_DIR=/cache RUNNER_ENV="A=1" \
  run_expect 0 "$GR" register --template-config "$WORK/config.template.toml" --non-interactive -c "$cfg"
expect_contains "$WORK/err" "Registering runner... succeeded"
expect_contains "$WORK/err" "larger than current global concurrency limit"
r=$(runner_json helm-runner)
[ "$(jq -r .tag_list <<<"$r")" = "k8s,linux" ] || fail "tags: $r"
[ "$(jq -r '[.locked,.run_untagged,.paused,.access_level,.maximum_timeout,.maintenance_note] | join(",")' <<<"$r")" \
  = "false,true,true,ref_protected,3600,owned by ci-team" ] || fail "server options: $r"
# The file loads back (list parses it) and holds every value once.
run_expect 0 "$GR" list -c "$cfg"
expect_contains "$WORK/err" "helm-runner"
for want in 'namespace = "ci-jobs"' 'privileged = true' 'cpu_limit = "2"' 'poll_timeout = 360' \
    'image = "alpine:3.20"' 'BucketName = "runner-cache"' 'BucketLocation = "eu-west-1"' 'Shared = true' \
    'limit = 3' 'output_limit = 8192' 'request_concurrency = 2' 'builds_dir = "/builds"' \
    'cache_dir = "/cache"' '"A=1"' 'linux'; do
  expect_contains "$cfg" "$want"
done
expect_not_contains "$cfg" "from-template"
[ "$(grep -c 'namespace = ' "$cfg")" = 1 ] || fail "namespace written twice"
[ "$(stat -c %a "$cfg")" = 600 ] || fail "config mode"
[ "$(stat -c %a "$WORK/.runner_system_id")" = 600 ] || fail "system id mode"
grep -qE '^s_[0-9a-f]{12}$|^r_[0-9a-zA-Z]{12}$' "$WORK/.runner_system_id" || fail "system id $(cat "$WORK/.runner_system_id")"

# 2. Flags: docker executor gets /cache; a template-less run with repeated list flags.
run_expect 0 "$GR" register -n -c "$cfg" -u "$FAKE_URL" -r GR1348941flagstoken --executor docker \
  --description docker-runner --docker-image ruby:3.3 --docker-volumes /certs --docker-volumes /data \
  --docker-privileged=true --locked=false
expect_contains "$cfg" 'volumes = [ "/certs", "/data" ]'
run_expect 0 "$GR" register -n -c "$cfg" -u "$FAKE_URL" -r GR1348941flagstoken --executor docker \
  --name docker-default --docker-image ruby:3.3
expect_contains "$cfg" 'volumes = [ "/cache" ]'
[ "$(runner_json docker-runner | jq -r .locked)" = false ] || fail "--locked=false not sent"
[ "$(runner_json docker-default | jq -r '[.locked,.run_untagged] | join(",")')" = "true,true" ] \
  || fail "defaults locked/run_untagged"
# Non-interactive without a docker image, a bad executor, a bad bool: one message, no change.
before=$(cat "$cfg")
run_expect 1 "$GR" register -n -c "$cfg" -u "$FAKE_URL" -r GR1348941flagstoken --executor docker --name x
expect_contains "$WORK/err" "docker-image needs to be entered"
run_expect 1 "$GR" register -n -c "$cfg" -u "$FAKE_URL" -r GR1348941flagstoken --executor nope --name x
expect_contains "$WORK/err" "Invalid executor"
run_expect 1 "$GR" register -n -c "$cfg" -u "$FAKE_URL" -r GR1348941flagstoken --executor shell \
  --kubernetes-privileged=maybe
expect_contains "$WORK/err" "--kubernetes-privileged"
run_expect 1 "$GR" register -n -c "$cfg" -u "$FAKE_URL" -r GR1348941flagstoken --executor shell --access-level x
expect_contains "$WORK/err" "access-level"
[ "$(cat "$cfg")" = "$before" ] || fail "a refused register changed the file"
# The refusals happened before GitLab was asked: no runner named x exists there.
[ "$(control GET registered_runners | jq '[.[] | select(.description=="x")] | length')" = 0 ] \
  || fail "refused registrations reached the server"

# 3. --pat: group and project runners (GITLAB_PAT env), scope ids required.
GITLAB_PAT=glpat-flagspat00000001 run_expect 0 "$GR" register -n -c "$cfg" -u "$FAKE_URL" \
  --runner-type group_type --group-id 12 --executor shell --name grp --tag-list a,b --paused
r=$(runner_json grp)
[ "$(jq -r '[.runner_type,.group_id,.tag_list,.paused] | join(",")' <<<"$r")" = "group_type,12,a,b,true" ] \
  || fail "group runner: $r"
[ "$(jq -r '.managers | length' <<<"$r")" = 1 ] || fail "group runner not verified by this host"
expect_contains "$cfg" "$(jq -r .token <<<"$r")"
expect_not_contains "$WORK/err" "$(jq -r .token <<<"$r")"
expect_not_contains "$WORK/out" "$(jq -r .token <<<"$r")"
run_expect 1 "$GR" register -n -c "$cfg" -u "$FAKE_URL" --pat glpat-flagspat00000001 \
  --runner-type project_type --executor shell --name prj
expect_contains "$WORK/err" "--project-id"
run_expect 0 "$GR" register -n -c "$cfg" -u "$FAKE_URL" --pat glpat-flagspat00000001 \
  --runner-type project_type --project-id 42 --executor shell --name prj
[ "$(runner_json prj | jq -r .token | cut -c1-8)" = "glrt-t3_" ] || fail "project runner token"
run_expect 0 "$GR" verify -c "$cfg"

# 4. Unreachable server and 401 from the PAT API: one message, exit 1, file unchanged.
before=$(cat "$cfg")
run_expect 1 "$GR" register -n -c "$cfg" -u http://127.0.0.1:1/ --pat glpat-flagspat00000001 --executor shell
expect_contains "$WORK/err" "Creating runner... failed"
run_expect 1 "$GR" register -n -c "$cfg" -u "$FAKE_URL" --pat glpat-nope --executor shell
expect_contains "$WORK/err" "401"
[ "$(cat "$cfg")" = "$before" ] || fail "a refused register changed the file"
echo ok
