#!/usr/bin/env bash
# The S3 cache with AuthenticationType = "iam" (issue 5; api spec config.toml [runners.cache.s3]):
# the runner takes its keys from the AWS credential chain, served here on 127.0.0.1 by
# lib/aws_credential_server.js: web identity (IRSA: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN,
# STS at AWS_ENDPOINT_URL_STS), EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI +
# AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) and EC2 IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT).
# For each, one `run-single` process runs two jobs: the first uploads through a URL signed with
# the obtained keys (s3rver checks the signature), the second downloads it. Credentials valid for
# an hour are fetched once for both jobs; credentials expiring in 2 minutes (inside the 5-minute
# refresh window) are fetched again for every URL.
source "$(dirname "$0")/common.sh"
command -v node >/dev/null || { echo "SKIP: node not installed"; exit 77; }
start_s3rver
start_fake_gitlab
control POST runners "glrt-t1_e2etoken1234" >/dev/null
echo -n "pod-identity-or-irsa-token" >"$WORK/auth-token"

start_credential_server() {  # EXPIRES_IN -> CRED_PORT
  rm -f "$WORK/cred.out"  # no stale "listening on" line from the previous server
  node "$(dirname "$0")/lib/aws_credential_server.js" "$(cat "$WORK/auth-token")" "$1" \
    >"$WORK/cred.out" 2>"$WORK/cred.err" &
  PIDS+=($!)
  CRED_PID=$!
  wait_for_line "$WORK/cred.out" "listening on" 100
  CRED_PORT=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$WORK/cred.out")
  [ -n "$CRED_PORT" ] || fail "credential server did not start: $(cat "$WORK/cred.err")"
}

job() {  # job NAME SCRIPT_JSON_ARRAY POLICY KEY
  shell_job "$1" "$2" "\"cache\":[{\"key\":\"$4\",\"paths\":[\"vendor\"],\"policy\":\"$3\"}]" 7
}

# check_mode NAME EXPIRES_IN MIN_FETCHES MAX_FETCHES ENV... (@PORT@ = the credential server's port)
check_mode() {
  local name=$1 expires=$2 min=$3 max=$4
  shift 4
  start_credential_server "$expires"
  local envs=() e
  for e in "$@"; do envs+=("${e//@PORT@/$CRED_PORT}"); done
  cat >"$WORK/config.toml" <<TOML
concurrent = 1
check_interval = 1

[[runners]]
  name = "iam"
  url = "$FAKE_URL"
  token = "glrt-t1_e2etoken1234"
  executor = "shell"
  builds_dir = "$WORK/builds-$name"
  cache_dir = "$WORK/cache-$name"
  [runners.cache]
    Type = "s3"
    [runners.cache.s3]
      ServerAddress = "127.0.0.1:$S3_PORT"
      BucketName = "cache"
      Insecure = true
      AuthenticationType = "iam"
TOML
  local id1 id2
  id1=$(control POST jobs "$(job build '["mkdir -p vendor","echo from-'"$name"' > vendor/gem.rb"]' pull-push "k-$name")" | jq -r .id)
  id2=$(control POST jobs "$(job test '["rm -rf vendor","true"]' pull "k-$name")" | jq -r .id)
  run_expect 0 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE "${envs[@]}" \
    "$GLRUNNER" run-single -c "$WORK/config.toml" -r iam --max-builds 2 --wait-timeout 60 -d "$WORK"
  # Runner-log warnings (credential or presigning failures) explain a missing URL below.
  grep -iE "warn|error" "$WORK/out" "$WORK/err" >&2 || true
  control GET "jobs/$id1" | jq -r .trace >"$WORK/$name-1.txt"
  control GET "jobs/$id2" | jq -r .trace >"$WORK/$name-2.txt"
  expect_contains "$WORK/$name-1.txt" "Uploading cache.zip to http://127.0.0.1:$S3_PORT/cache/runner/"
  expect_contains "$WORK/$name-1.txt" "Created cache"
  expect_not_contains "$WORK/$name-1.txt" "Failed to create cache"
  find "$S3_DATA/cache" -path "*project/7/k-$name*" -type f | grep -q . ||
    fail "$name: no object for k-$name in the bucket: $(find "$S3_DATA/cache")"
  expect_contains "$WORK/$name-2.txt" "Downloading cache.zip from http://127.0.0.1:$S3_PORT/cache/runner/"
  expect_not_contains "$WORK/$name-2.txt" "received:"
  expect_contains "$WORK/$name-2.txt" "Successfully extracted cache"
  local fetches
  fetches=$(curl -fsS "http://127.0.0.1:$CRED_PORT/__count")
  [ "$fetches" -ge "$min" ] && [ "$fetches" -le "$max" ] ||
    fail "$name: $fetches credential fetches, expected $min..$max"
  echo "$name: $fetches credential fetch(es) for 2 jobs"
  kill "$CRED_PID"
}

token_file="$WORK/auth-token"
check_mode irsa 3600 1 1 AWS_ROLE_ARN=arn:aws:iam::123456789012:role/cache \
  AWS_WEB_IDENTITY_TOKEN_FILE="$token_file" AWS_ENDPOINT_URL_STS="http://127.0.0.1:@PORT@"
check_mode pod-identity 3600 1 1 AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:@PORT@/pod-identity" \
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$token_file"
# Expiring inside the refresh window: fetched again for each of the 3 presigned URL sets.
check_mode pod-identity-refresh 120 3 6 \
  AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:@PORT@/pod-identity" \
  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$token_file"
check_mode imds 3600 1 1 AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:@PORT@"
echo ok
