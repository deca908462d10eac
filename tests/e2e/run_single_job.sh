#!/usr/bin/env bash
# `run-single` against the fake GitLab: takes one job, clones the project over
# smart HTTP with the job token, streams the log, reports success with a checksum
# that matches the stored log, and exits after --max-builds 1.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
seed_git_project
control POST runners "glrt-t1_e2etoken1234" >/dev/null

cat > "$WORK/job.json" <<JSON
{"id":0,"token":"","allow_git_fetch":false,
 "job_info":{"name":"e2e","stage":"test","project_id":5,"project_name":"project"},
 "git_info":{"repo_url":"http://gitlab-ci-token:{{JOB_TOKEN}}@127.0.0.1:$GITLAB_PORT/group/project.git",
   "ref":"main","sha":"$SHA","ref_type":"branch","depth":0,
   "refspecs":["+refs/heads/*:refs/remotes/origin/*","+refs/tags/*:refs/tags/*"]},
 "runner_info":{"timeout":600},
 "variables":[{"key":"CI_JOB_TOKEN","value":"{{JOB_TOKEN}}","public":false,"masked":true},
   {"key":"PASSWORD","value":"hunter2-is-secret","public":false,"masked":true},
   {"key":"GREETING","value":"hi there","public":true}],
 "steps":[{"name":"script","script":["cat file.txt","echo \"\$GREETING\"","echo pw=\$PASSWORD"],
   "timeout":600,"when":"on_success","allow_failure":false}],
 "features":{"trace_sections":true,"failure_reasons":["script_failure","runner_system_failure"]}}
JSON
id=$(control POST jobs "$(cat "$WORK/job.json")" | jq -r .id)

run_expect 0 "$GLRUNNER" run-single --url "$FAKE_URL" --token glrt-t1_e2etoken1234 \
  --executor shell --builds-dir "$WORK/builds" --max-builds 1 --wait-timeout 60 -d "$WORK"
control GET "jobs/$id" > "$WORK/record.json"
[ "$(jq -r .state "$WORK/record.json")" = success ] || { cat "$WORK/record.json"; fail "job not successful"; }
[ "$(jq -r .checksum_matches "$WORK/record.json")" = true ] || fail "checksum mismatch"
jq -r .trace "$WORK/record.json" > "$WORK/trace.txt"
expect_contains "$WORK/trace.txt" "content from git"
expect_contains "$WORK/trace.txt" "hi there"
expect_contains "$WORK/trace.txt" "pw=[MASKED]"
expect_not_contains "$WORK/trace.txt" "hunter2"
expect_contains "$WORK/trace.txt" "Job succeeded"
# The checkout lives in the shared builds-dir layout: <builds>/<short token>/<slot>/<ns>/<project>.
[ -f "$WORK/builds/e2etoken1/0/group/project/file.txt" ] || fail "unexpected builds dir layout: $(find "$WORK/builds" -maxdepth 4)"
# No credentials in the checkout's remote.
remote=$(git -C "$WORK/builds/e2etoken1/0/group/project" remote get-url origin)
case "$remote" in *@*) fail "credentials in origin remote: $remote" ;; esac
echo ok
