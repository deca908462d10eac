#!/usr/bin/env bash
# Docker executor: a job runs in its image (bash present) with sources cloned on the
# runner host and copied into the build container, reaches a service by its alias
# on the default bridge, writes an artifact-style file the host side sees again in
# after_script's container, and leaves no container, network or volume behind.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/../support/docker/lib.sh"
docker_setup
start_fake_gitlab
seed_git_project

control POST runners "glrt-t1_dockjobsvc1" >/dev/null
docker_config "$WORK/config.toml" glrt-t1_dockjobsvc1 "wait_for_services_timeout = 20"

cat > "$WORK/job.json" <<JSON
{"id":0,"token":"","allow_git_fetch":false,
 "job_info":{"name":"e2e","stage":"test","project_id":5,"project_name":"project"},
 "git_info":{"repo_url":"http://gitlab-ci-token:{{JOB_TOKEN}}@127.0.0.1:$GITLAB_PORT/group/project.git",
   "ref":"main","sha":"$SHA","ref_type":"branch","depth":0,
   "refspecs":["+refs/heads/*:refs/remotes/origin/*","+refs/tags/*:refs/tags/*"]},
 "runner_info":{"timeout":600},
 "image":{"name":"glrunner-test/bash:1"},
 "services":[{"name":"glrunner-test/httpd:1","alias":"web"}],
 "variables":[{"key":"CI_JOB_TOKEN","value":"{{JOB_TOKEN}}","public":false,"masked":true},
   {"key":"GREETING","value":"hi there","public":true}],
 "steps":[{"name":"script","script":["cat file.txt","echo \"\$GREETING\"","echo shell=\$BASH_VERSION","pwd","wget -qO- http://web/","echo built > out.txt"],
   "timeout":600,"when":"on_success","allow_failure":false},
   {"name":"after_script","script":["cat out.txt"],"timeout":600,"when":"always","allow_failure":false}],
 "features":{"trace_sections":true,"failure_reasons":["script_failure","runner_system_failure"]}}
JSON
id=$(control POST jobs "$(cat "$WORK/job.json")" | jq -r .id)

run_expect 0 "$GLRUNNER" run-single -r docker-e2e -c "$WORK/config.toml" --max-builds 1 --wait-timeout 60 -d "$WORK"
control GET "jobs/$id" > "$WORK/record.json"
jq -r .trace "$WORK/record.json" > "$WORK/trace.txt"
[ "$(jq -r .state "$WORK/record.json")" = success ] || { cat "$WORK/trace.txt"; fail "job not successful"; }
[ "$(jq -r .checksum_matches "$WORK/record.json")" = true ] || fail "checksum mismatch"
expect_contains "$WORK/trace.txt" 'Preparing the "docker" executor'
expect_contains "$WORK/trace.txt" "Using Docker executor with image glrunner-test/bash:1 ..."
expect_contains "$WORK/trace.txt" "Starting service glrunner-test/httpd:1..."
expect_contains "$WORK/trace.txt" 'Using locally found image version due to "if-not-present" pull policy'
expect_contains "$WORK/trace.txt" "Waiting for services to be up and running (timeout 20 seconds)..."
expect_contains "$WORK/trace.txt" "Running on runner-dockjobsv-project-5-concurrent-0 via"
expect_contains "$WORK/trace.txt" "content from git"
expect_contains "$WORK/trace.txt" "hi there"
expect_contains "$WORK/trace.txt" "shell=5."
expect_contains "$WORK/trace.txt" "/builds/group/project"
expect_contains "$WORK/trace.txt" "service-ok"
expect_contains "$WORK/trace.txt" "built"
expect_not_contains "$WORK/trace.txt" "probably didn't start properly"
expect_contains "$WORK/trace.txt" "Job succeeded"
expect_no_leftovers dockjobsv
[ -z "$(ls -A "$WORK/docker-staging" 2>/dev/null)" ] || fail "staging copy left behind"
echo ok
