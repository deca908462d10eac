#!/usr/bin/env bash
# Artifacts end to end (executors §6; api spec §6): job 1 uploads a zip archive (paths, exclude,
# name, expire_in) and a gzip junit report through `glrunner artifacts-uploader`; job 2 lists job 1
# as a dependency and finds the files in its project dir via `glrunner artifacts-downloader`.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST runners "glrt-t1_e2etoken1234" >/dev/null

job() {  # job NAME SCRIPT_JSON_ARRAY ARTIFACTS_JSON DEPENDENCIES_JSON
  # Each job gets its own project dir (the repo URL names it), so job 2 sees only what it downloads.
  shell_job "$1" "$2" "\"artifacts\":$3, \"dependencies\":$4" 5 "$1"
}

id1=$(control POST jobs "$(job build \
  '["mkdir -p out/sub","echo hello > out/a.txt","echo skip > out/sub/b.log","echo deep > out/sub/c.txt","echo \"<testsuite/>\" > report.xml"]' \
  '[{"name":"my-art","paths":["out/"],"exclude":["out/**/*.log"],"when":"on_success","expire_in":"1 week","artifact_type":"archive","artifact_format":"zip"},
    {"name":"junit.xml","paths":["report.xml"],"when":"always","artifact_type":"junit","artifact_format":"gzip"}]' \
  '[]')" | jq -r .id)
id2=$(control POST jobs "$(job test '["cat out/a.txt out/sub/c.txt","test ! -e out/sub/b.log && echo no-log","test ! -e report.xml && echo no-report"]' '[]' \
  "[{\"id\":$id1,\"name\":\"build\",\"token\":\"{{JOB_TOKEN}}\",\"artifacts_file\":{\"filename\":\"artifacts.zip\",\"size\":1}}]")" | jq -r .id)

run_expect 0 "$GLRUNNER" run-single --url "$FAKE_URL" --token glrt-t1_e2etoken1234 \
  --executor shell --builds-dir "$WORK/builds" --max-builds 2 --wait-timeout 60 -d "$WORK"

expect_job_success 1 "$id1"
expect_not_contains "$WORK/trace1.txt" "Uploading artifacts is not supported by this executor."
expect_contains "$WORK/trace1.txt" "out/: found 4 matching artifact files and directories"
expect_contains "$WORK/trace1.txt" "out/**/*.log: excluded 1 files"
expect_contains "$WORK/trace1.txt" "Uploading artifacts as \"archive\" to coordinator... 201 Created"
expect_contains "$WORK/trace1.txt" "Uploading artifacts as \"junit\" to coordinator... 201 Created"

control GET artifacts > "$WORK/uploads.json"
[ "$(jq length "$WORK/uploads.json")" = 2 ] || { cat "$WORK/uploads.json"; fail "expected 2 uploads"; }
[ "$(jq -r '.[0].query' "$WORK/uploads.json")" = "artifact_format=zip&artifact_type=archive&expire_in=1+week" ] ||
  fail "query: $(jq -r '.[0].query' "$WORK/uploads.json")"
[ "$(jq -r '.[0].filename' "$WORK/uploads.json")" = "my-art.zip" ] || fail "zip filename"
[ "$(jq -r '.[0].field_name' "$WORK/uploads.json")" = "file" ] || fail "field name"
[ "$(jq -r '.[1].query' "$WORK/uploads.json")" = "artifact_format=gzip&artifact_type=junit" ] || fail "report query"
[ "$(jq -r '.[1].filename' "$WORK/uploads.json")" = "junit.xml.gz" ] || fail "report filename"

control GET artifacts/0 > "$WORK/art.zip"
unzip -Z1 "$WORK/art.zip" | sort > "$WORK/list.txt"
printf 'out/\nout/a.txt\nout/sub/\nout/sub/c.txt\n' > "$WORK/want.txt"
diff -u "$WORK/want.txt" "$WORK/list.txt" || fail "zip listing differs"
control GET artifacts/1 | gzip -dc > "$WORK/report.xml"
[ "$(cat "$WORK/report.xml")" = "<testsuite/>" ] || fail "report content: $(cat "$WORK/report.xml")"

expect_job_success 2 "$id2"
expect_contains "$WORK/trace2.txt" "Downloading artifacts for build ($id1)..."
expect_contains "$WORK/trace2.txt" "Downloading artifacts from coordinator... ok"
expect_contains "$WORK/trace2.txt" "hello"
expect_contains "$WORK/trace2.txt" "deep"
expect_contains "$WORK/trace2.txt" "no-log"
expect_contains "$WORK/trace2.txt" "no-report"
echo ok
