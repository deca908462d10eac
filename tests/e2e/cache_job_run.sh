#!/usr/bin/env bash
# The local cache end to end (executors §5): job 1 (policy pull-push) saves vendor/ under
# <cache_dir>/<key>/cache.zip through `glrunner cache-archiver`; job 2 (policy pull, a fallback key
# first missing) restores it through `glrunner cache-extractor` before its script runs and does not
# upload.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST runners "glrt-t1_e2etoken1234" >/dev/null

job() {  # job NAME SCRIPT_JSON_ARRAY CACHE_JSON
  shell_job "$1" "$2" "\"cache\":$3"
}

id1=$(control POST jobs "$(job build '["mkdir -p vendor","echo cached-gem > vendor/gem.rb"]' \
  '[{"key":"deps-main","paths":["vendor"],"policy":"pull-push","when":"on_success"}]')" | jq -r .id)
id2=$(control POST jobs "$(job test '["cat vendor/gem.rb"]' \
  '[{"key":"deps-feature","fallback_keys":["deps-main"],"paths":["vendor"],"policy":"pull"}]')" | jq -r .id)

run_expect 0 "$GLRUNNER" run-single --url "$FAKE_URL" --token glrt-t1_e2etoken1234 \
  --executor shell --builds-dir "$WORK/builds" --cache-dir "$WORK/cache" --max-builds 2 \
  --wait-timeout 60 -d "$WORK"

expect_job_success 1 "$id1"
expect_not_contains "$WORK/trace1.txt" "Creating cache is not supported by this executor."
expect_contains "$WORK/trace1.txt" "Creating cache deps-main..."
expect_contains "$WORK/trace1.txt" "vendor: found 2 matching artifact files and directories"
expect_contains "$WORK/trace1.txt" "Created cache"
archive=$(find "$WORK/cache" -name cache.zip -path '*deps-main*' | head -1)
[ -n "$archive" ] || fail "no cache.zip under $WORK/cache: $(find "$WORK/cache")"
[ -f "$(dirname "$archive")/metadata.json" ] || fail "no metadata.json beside $archive"

expect_job_success 2 "$id2"
expect_contains "$WORK/trace2.txt" "Checking cache for deps-feature..."
expect_contains "$WORK/trace2.txt" "WARNING: Cache file does not exist"
expect_contains "$WORK/trace2.txt" "Checking cache for deps-main..."
expect_contains "$WORK/trace2.txt" "Successfully extracted cache"
expect_contains "$WORK/trace2.txt" "cached-gem"
expect_contains "$WORK/trace2.txt" "Not uploading cache deps-feature due to policy"
echo ok
