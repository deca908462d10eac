#!/usr/bin/env bash
# Artifacts and dotenv reports flow between `glrunner exec` jobs as GitLab selects them
# (pipeline-yaml §9.9, §7.6): earlier stages without needs, needs (artifacts: false gets
# nothing), dependencies: [] gets nothing, and each job works on its own project copy.
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p" && cd "$WORK/p"
git init -q -b main . && git config user.email t@example.com && git config user.name T
echo tracked > tracked.txt
echo ignored.txt > .gitignore
echo ignored > ignored.txt
cat > .gitlab-ci.yml <<'YAML'
stages: [build, test, deploy]
variables:
  WHO: default
build:
  stage: build
  script:
    - mkdir -p out && echo "built by $CI_JOB_NAME" > out/result.txt
    - echo "WHO=from-dotenv" > build.env
    - echo scratch > scratch.txt
    - test ! -e ignored.txt && echo "no ignored file"
    - git rev-parse --is-inside-work-tree
  artifacts:
    paths: [out/]
    reports:
      dotenv: build.env
other:
  stage: build
  script:
    - test ! -e scratch.txt && echo "other does not see scratch"
    - echo other > other.txt
  artifacts:
    paths: [other.txt]
test:
  stage: test
  script:
    - cat out/result.txt
    - cat other.txt
    - echo "WHO=$WHO"
    - test ! -e scratch.txt && echo "no scratch file"
needs-no-artifacts:
  stage: test
  needs:
    - job: build
      artifacts: false
  script:
    - test ! -e out/result.txt && echo "no artifacts here"
    - echo "WHO=$WHO"
only-build:
  stage: deploy
  needs: [build]
  script:
    - cat out/result.txt
    - test ! -e other.txt && echo "no other.txt"
    - echo "WHO=$WHO"
no-deps:
  stage: deploy
  dependencies: []
  script:
    - test ! -e out/result.txt && echo "nothing downloaded"
    - cat tracked.txt
    - echo "WHO=$WHO"
YAML
git add . && git commit -qm init
run_expect 0 "$GLRUNNER" exec --no-color
expect_contains "$WORK/out" "build no ignored file"
expect_contains "$WORK/out" "build true"
expect_contains "$WORK/out" "other other does not see scratch"
expect_contains "$WORK/out" "test built by build"
expect_contains "$WORK/out" "test other"
expect_contains "$WORK/out" "test WHO=from-dotenv"
expect_contains "$WORK/out" "test no scratch file"
expect_contains "$WORK/out" "needs-no-artifacts no artifacts here"
expect_contains "$WORK/out" "needs-no-artifacts WHO=default"
expect_contains "$WORK/out" "only-build built by build"
expect_contains "$WORK/out" "only-build no other.txt"
expect_contains "$WORK/out" "only-build WHO=from-dotenv"
expect_contains "$WORK/out" "no-deps nothing downloaded"
expect_contains "$WORK/out" "no-deps tracked"
expect_contains "$WORK/out" "no-deps WHO=default"
# The log shows the transfers where a GitLab job log has them (executors §1.2): downloads
# after the sources, before the script; uploads after the script, before the cleanup stage.
grep '^test ' "$WORK/out" | sed 's/^test //' > "$WORK/test.log"
grep '^build ' "$WORK/out" | sed 's/^build //' > "$WORK/build.log"
order() {  # order FILE LINE1 LINE2: LINE1 comes before LINE2
  local a b
  a=$(grep -n -F -m1 -- "$2" "$1" | cut -d: -f1)
  b=$(grep -n -F -m1 -- "$3" "$1" | cut -d: -f1)
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] || fail "$1: \"$2\" should come before \"$3\""
}
order "$WORK/test.log" "Skipping Git submodules setup" "Downloading artifacts"
order "$WORK/test.log" "Downloading artifacts for build (local)... ok" 'Executing "step_script" stage'
order "$WORK/build.log" '$ git rev-parse --is-inside-work-tree' "Uploading artifacts for successful job"
order "$WORK/build.log" "Uploading artifacts for successful job" "Cleaning up project directory"
order "$WORK/build.log" "Cleaning up project directory" "Job succeeded"
# The project itself is untouched: jobs worked on copies.
[ ! -e out ] || fail "out/ leaked into the project"
[ ! -e scratch.txt ] || fail "scratch.txt leaked into the project"
[ -z "$(git status --porcelain)" ] || fail "project changed: $(git status --porcelain)"
# --variable beats dotenv (pipeline-yaml §7.1: #3 over #7).
run_expect 0 "$GLRUNNER" exec --no-color --variable WHO=cli test build other
expect_contains "$WORK/out" "test WHO=cli"
echo ok
