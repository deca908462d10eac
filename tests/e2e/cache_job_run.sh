#!/usr/bin/env bash
# The local cache end to end (executors §5): job 1 (policy pull-push) saves vendor/ under
# <cache_dir>/<key>/cache.zip through `glrunner cache-archiver`; job 2 (policy pull, a fallback key
# first missing) restores it through `glrunner cache-extractor` before its script runs and does not
# upload.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST runners "glrt-t1_e2etoken1234" >/dev/null

job() {  # job NAME SCRIPT_JSON_ARRAY CACHE_JSON
  cat <<JSON
{"id":0,"token":"","allow_git_fetch":false,
 "job_info":{"name":"$1","stage":"test","project_id":5,"project_name":"project"},
 "git_info":{"repo_url":"http://127.0.0.1/group/project.git","ref":"main","sha":"0000000000000000000000000000000000000000","ref_type":"branch"},
 "runner_info":{"timeout":600},
 "variables":[{"key":"CI_JOB_TOKEN","value":"{{JOB_TOKEN}}","public":false,"masked":true},
   {"key":"GIT_STRATEGY","value":"none","public":true}],
 "steps":[{"name":"script","script":$2,"timeout":600,"when":"on_success","allow_failure":false}],
 "cache":$3,
 "features":{"trace_sections":true}}
JSON
}

id1=$(control POST jobs "$(job build '["mkdir -p vendor","echo cached-gem > vendor/gem.rb"]' \
  '[{"key":"deps-main","paths":["vendor"],"policy":"pull-push","when":"on_success"}]')" | jq -r .id)
id2=$(control POST jobs "$(job test '["cat vendor/gem.rb"]' \
  '[{"key":"deps-feature","fallback_keys":["deps-main"],"paths":["vendor"],"policy":"pull"}]')" | jq -r .id)

run_expect 0 "$GLRUNNER" run-single --url "$FAKE_URL" --token glrt-t1_e2etoken1234 \
  --executor shell --builds-dir "$WORK/builds" --cache-dir "$WORK/cache" --max-builds 2 \
  --wait-timeout 60 -d "$WORK"

control GET "jobs/$id1" > "$WORK/job1.json"
jq -r .trace "$WORK/job1.json" > "$WORK/trace1.txt"
[ "$(jq -r .state "$WORK/job1.json")" = success ] || { cat "$WORK/trace1.txt"; fail "job 1 not successful"; }
expect_not_contains "$WORK/trace1.txt" "Creating cache is not supported by this executor."
expect_contains "$WORK/trace1.txt" "Creating cache deps-main..."
expect_contains "$WORK/trace1.txt" "vendor: found 2 matching artifact files and directories"
expect_contains "$WORK/trace1.txt" "Created cache"
archive=$(find "$WORK/cache" -name cache.zip -path '*deps-main*' | head -1)
[ -n "$archive" ] || fail "no cache.zip under $WORK/cache: $(find "$WORK/cache")"
[ -f "$(dirname "$archive")/metadata.json" ] || fail "no metadata.json beside $archive"

control GET "jobs/$id2" > "$WORK/job2.json"
jq -r .trace "$WORK/job2.json" > "$WORK/trace2.txt"
[ "$(jq -r .state "$WORK/job2.json")" = success ] || { cat "$WORK/trace2.txt"; fail "job 2 not successful"; }
expect_contains "$WORK/trace2.txt" "Checking cache for deps-feature..."
expect_contains "$WORK/trace2.txt" "WARNING: Cache file does not exist"
expect_contains "$WORK/trace2.txt" "Checking cache for deps-main..."
expect_contains "$WORK/trace2.txt" "Successfully extracted cache"
expect_contains "$WORK/trace2.txt" "cached-gem"
expect_contains "$WORK/trace2.txt" "Not uploading cache deps-feature due to policy"
echo ok
