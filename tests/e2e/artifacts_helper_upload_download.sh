#!/usr/bin/env bash
# `glrunner artifacts-uploader` and `artifacts-downloader` as the generated stage scripts call them
# (executors §6.1, §6.3, §6.7; api spec §6): archive content and query args byte for byte at the
# fake GitLab, a refused upload exits 1 with FATAL, and the download follows a redirect and
# extracts into the working directory.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
out=$(control POST jobs '{"job_info":{"name":"build"}}')
id=$(echo "$out" | jq -r .id)
token=$(echo "$out" | jq -r .token)

mkdir -p "$WORK/p/out/sub" "$WORK/p2"
cd "$WORK/p"
echo hello > out/a.txt
echo skip > out/sub/b.log
echo deep > out/sub/c.txt
echo '<testsuite/>' > report.xml

run_expect 0 "$GLRUNNER" artifacts-uploader --url "$FAKE_URL" --token "$token" --id "$id" \
  --timeout 1h0m0s --response-header-timeout 10m0s --path out/ --exclude 'out/**/*.log' \
  --name my-art --expire-in "1 week" --artifact-format zip --artifact-type archive
expect_contains "$WORK/err" "out/: found 4 matching artifact files and directories"
expect_contains "$WORK/err" "out/**/*.log: excluded 1 files"
expect_contains "$WORK/err" "Uploading artifacts as \"archive\" to coordinator... 201 Created"

run_expect 0 "$GLRUNNER" artifacts-uploader --url "$FAKE_URL" --token "$token" --id "$id" \
  --path report.xml --name junit.xml --artifact-format gzip --artifact-type junit
run_expect 0 "$GLRUNNER" artifacts-uploader --url "$FAKE_URL" --token "$token" --id "$id" \
  --path nothing
expect_contains "$WORK/err" "ERROR: No files to upload"

control GET artifacts > "$WORK/uploads.json"
[ "$(jq length "$WORK/uploads.json")" = 2 ] || { cat "$WORK/uploads.json"; fail "expected 2 uploads"; }
[ "$(jq -r '.[0].query' "$WORK/uploads.json")" = "artifact_format=zip&artifact_type=archive&expire_in=1+week" ] ||
  fail "query: $(jq -r '.[0].query' "$WORK/uploads.json")"
[ "$(jq -r '.[0].filename' "$WORK/uploads.json")" = "my-art.zip" ] || fail "zip filename"
[ "$(jq -r '.[0].field_name' "$WORK/uploads.json")" = "file" ] || fail "field name"
[ "$(jq -r '.[1].query' "$WORK/uploads.json")" = "artifact_format=gzip&artifact_type=junit" ] || fail "report query"
[ "$(jq -r '.[1].filename' "$WORK/uploads.json")" = "junit.xml.gz" ] || fail "report filename"
control GET requests | jq -e --arg t "$token" '[.[] | select(.target | test("/artifacts")) | .headers["JOB-TOKEN"] == $t] | all' >/dev/null ||
  fail "JOB-TOKEN missing"

control GET artifacts/0 > "$WORK/art.zip"
unzip -Z1 "$WORK/art.zip" | sort > "$WORK/list.txt"
printf 'out/\nout/a.txt\nout/sub/\nout/sub/c.txt\n' > "$WORK/want.txt"
diff -u "$WORK/want.txt" "$WORK/list.txt" || fail "zip listing differs"
unzip -p "$WORK/art.zip" out/sub/c.txt | grep -qx deep || fail "zip content"
control GET artifacts/1 | gzip -dc > "$WORK/report.xml"
[ "$(cat "$WORK/report.xml")" = "<testsuite/>" ] || fail "report content: $(cat "$WORK/report.xml")"

# A refused upload is fatal: exit 1, no retry.
run_expect 1 "$GLRUNNER" artifacts-uploader --url "$FAKE_URL" --token glcbt-wrong --id "$id" --path out/
expect_contains "$WORK/err" "FATAL: permission denied"
control POST faults '{"endpoint":"artifacts","status":413,"count":1}' >/dev/null
run_expect 1 "$GLRUNNER" artifacts-uploader --url "$FAKE_URL" --token "$token" --id "$id" --path out/
expect_contains "$WORK/err" "FATAL: too large"

# Download through a 302 to "object storage", extracted into the working directory.
control POST "artifact_redirect?value=1" >/dev/null
cd "$WORK/p2"
FF_USE_DIRECT_DOWNLOAD=true run_expect 0 "$GLRUNNER" artifacts-downloader --url "$FAKE_URL" \
  --token "$token" --id "$id"
expect_contains "$WORK/err" "Downloading artifacts from coordinator... ok"
# GET serves the job's archive, not its reports.
[ "$(cat "$WORK/p2/out/sub/c.txt")" = deep ] || fail "downloaded archive: $(ls -R "$WORK/p2")"
[ ! -e "$WORK/p2/out/sub/b.log" ] || fail "excluded file downloaded"
[ ! -e "$WORK/p2/report.xml" ] || fail "report served as the archive"
control GET requests | jq -e '[.[] | select(.target | test("direct_download=true"))] | length == 1' >/dev/null ||
  fail "direct_download=true not sent"
run_expect 1 "$GLRUNNER" artifacts-downloader --url "$FAKE_URL" --token "$token" --id 1
expect_contains "$WORK/err" "FATAL: file does not exist"
echo ok
