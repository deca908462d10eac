#!/usr/bin/env bash
# The S3 distributed cache end to end (executors §5.6; config.toml [runners.cache] Type="s3")
# against s3rver on 127.0.0.1: job 1 uploads vendor/ through the presigned PUT URL the runner
# hands to `cache-archiver --url ... --header ...`; the object lands in the bucket under
# <Path>/project/<id>/<key> (Shared). Job 2 runs with a fresh builds dir and an empty local
# cache dir and restores vendor/ through the presigned GET URL given to `cache-extractor --url`.
source "$(dirname "$0")/common.sh"
start_s3rver
start_fake_gitlab
control POST runners "glrt-t1_e2etoken1234" >/dev/null

cat >"$WORK/config.toml" <<TOML
concurrent = 1
check_interval = 1

[[runners]]
  name = "s3"
  url = "$FAKE_URL"
  token = "glrt-t1_e2etoken1234"
  executor = "shell"
  builds_dir = "$WORK/builds"
  cache_dir = "$WORK/cache"
  [runners.cache]
    Type = "s3"
    Path = "ci"
    Shared = true
    [runners.cache.s3]
      ServerAddress = "127.0.0.1:$S3_PORT"
      AccessKey = "S3RVER"
      SecretKey = "S3RVER"
      BucketName = "cache"
      BucketLocation = "us-east-1"
      Insecure = true
      AuthenticationType = "access-key"
TOML

job() {  # job NAME SCRIPT_JSON_ARRAY CACHE_JSON
  shell_job "$1" "$2" "\"cache\":$3"
}

run_single() {
  run_expect 0 "$GLRUNNER" run-single -c "$WORK/config.toml" -r s3 --max-builds 1 \
    --wait-timeout 60 -d "$WORK"
}

id1=$(control POST jobs "$(job build '["mkdir -p vendor","echo cached-gem-s3 > vendor/gem.rb"]' \
  '[{"key":"deps-main","paths":["vendor"],"policy":"pull-push","when":"on_success"}]')" | jq -r .id)
run_single
expect_job_success 1 "$id1"
expect_contains "$WORK/trace1.txt" "Creating cache deps-main..."
expect_contains "$WORK/trace1.txt" "Uploading cache.zip to http://127.0.0.1:$S3_PORT/cache/ci/project/5/deps-main"
expect_contains "$WORK/trace1.txt" "Created cache"
expect_not_contains "$WORK/trace1.txt" "Failed to create cache"
expect_not_contains "$WORK/trace1.txt" "X-Amz-Signature"  # presigned query stays out of the log
object=$(find "$S3_DATA/cache" -path '*ci/project/5/deps-main*' -name '*_object' -type f | head -1)
[ -n "$object" ] || fail "no object ci/project/5/deps-main in the bucket: $(find "$S3_DATA")"
cmp "$object" "$WORK/cache/project/deps-main/cache.zip" >/dev/null 2>&1 ||
  cmp "$object" "$(find "$WORK/cache" -name cache.zip | head -1)" ||
  fail "the bucket object is not the cache.zip the archiver wrote"

# A fresh machine: no builds dir, no local cache.
rm -rf "$WORK/builds" "$WORK/cache"
id2=$(control POST jobs "$(job test '["cat vendor/gem.rb"]' \
  '[{"key":"deps-main","paths":["vendor"],"policy":"pull"}]')" | jq -r .id)
run_single
expect_job_success 2 "$id2"
expect_contains "$WORK/trace2.txt" "Checking cache for deps-main..."
expect_contains "$WORK/trace2.txt" "Downloading cache.zip from http://127.0.0.1:$S3_PORT/cache/ci/project/5/deps-main"
expect_contains "$WORK/trace2.txt" "Successfully extracted cache"
expect_contains "$WORK/trace2.txt" "cached-gem-s3"
expect_contains "$WORK/trace2.txt" "Not uploading cache deps-main due to policy"
echo ok
