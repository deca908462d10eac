#!/usr/bin/env bash
# A failed artifact upload fails an otherwise green job (executors §1.2, §6.5): GitLab answers 413,
# the helper prints FATAL: too large without retrying, and the job ends failed.
source "$(dirname "$0")/common.sh"
start_fake_gitlab
control POST runners "glrt-t1_e2etoken1234" >/dev/null
control POST faults '{"endpoint":"artifacts","status":413,"count":-1}' >/dev/null

id=$(control POST jobs '{"id":0,"token":"","allow_git_fetch":false,
 "job_info":{"name":"big","stage":"test","project_id":5,"project_name":"project"},
 "git_info":{"repo_url":"http://127.0.0.1/group/big.git","ref":"main","sha":"0000000000000000000000000000000000000000","ref_type":"branch"},
 "runner_info":{"timeout":600},
 "variables":[{"key":"GIT_STRATEGY","value":"none","public":true}],
 "steps":[{"name":"script","script":["echo data > big.bin"],"timeout":600,"when":"on_success","allow_failure":false}],
 "artifacts":[{"paths":["big.bin"],"when":"on_success","artifact_type":"archive","artifact_format":"zip"}]}' | jq -r .id)

run_expect 0 "$GLRUNNER" run-single --url "$FAKE_URL" --token glrt-t1_e2etoken1234 \
  --executor shell --builds-dir "$WORK/builds" --max-builds 1 --wait-timeout 60 -d "$WORK"
control GET "jobs/$id" > "$WORK/job.json"
jq -r .trace "$WORK/job.json" > "$WORK/trace.txt"
expect_not_contains "$WORK/trace.txt" "Uploading artifacts is not supported by this executor."
expect_contains "$WORK/trace.txt" "FATAL: too large"
[ "$(jq -r .state "$WORK/job.json")" = failed ] || { cat "$WORK/trace.txt"; fail "job should have failed"; }
n=$(control GET requests | jq '[.[] | select(.target | test("/artifacts"))] | length')
[ "$n" = 1 ] || fail "413 must not be retried, saw $n uploads"
echo ok
