#!/usr/bin/env bash
# Artifacts and dotenv reports flow between exec jobs as pipeline-yaml §9.9 says (stages,
# needs, needs:artifacts:false, dependencies, dependencies: []), each job in its own copy
# of the project: files a job writes reach no job that does not receive its artifacts, and
# never the project itself.
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p" && cd "$WORK/p"
git init -q . && git config user.email t@example.com && git config user.name T
echo tracked > tracked.txt
echo 'ignored.txt' > .gitignore
echo ignored > ignored.txt
echo new > untracked.txt
cat > .gitlab-ci.yml <<'YAML'
stages: [build, test, deploy]
build:
  stage: build
  script:
    - mkdir -p out && echo built-by-build > out/bin.txt
    - echo scratch > scratch.txt
    - echo "VERSION=1.2.3" > build.env
  artifacts:
    paths: [out/]
    reports:
      dotenv: build.env
other:
  stage: build
  script:
    - echo from-other > other.txt
    - test ! -e ignored.txt && echo "ignored file not copied"
    - cat untracked.txt tracked.txt
  artifacts:
    paths: [other.txt]
failing:
  stage: build
  allow_failure: true
  script: [echo partial > partial.txt, exit 1]
  artifacts:
    when: on_failure
    paths: [partial.txt]
same_stage_need:
  stage: build
  needs: [build]
  script:
    - cat out/bin.txt
    - echo "version=$VERSION"
    - test ! -e scratch.txt && echo "no scratch"
all_earlier:
  stage: test
  script:
    - cat out/bin.txt other.txt partial.txt
    - echo "version=$VERSION"
only_build:
  stage: test
  dependencies: [build]
  script:
    - cat out/bin.txt
    - test ! -e other.txt && echo "other not received"
none:
  stage: test
  dependencies: []
  script:
    - test ! -e out/bin.txt && echo "nothing received version=$VERSION."
no_artifacts:
  stage: test
  needs: [{job: build, artifacts: false}, other]
  script:
    - test ! -e out/bin.txt && cat other.txt && echo "version=$VERSION."
overridden:
  stage: deploy
  needs: [build]
  script: [echo "version=$VERSION"]
YAML
git add .gitignore tracked.txt .gitlab-ci.yml && git commit -qm init
run_expect 0 "$GLRUNNER" exec --no-color -j 4
expect_contains "$WORK/out" "same_stage_need built-by-build"
expect_contains "$WORK/out" "same_stage_need version=1.2.3"
expect_contains "$WORK/out" "same_stage_need no scratch"
expect_contains "$WORK/out" "other ignored file not copied"
expect_contains "$WORK/out" "other new"
expect_contains "$WORK/out" "all_earlier built-by-build"
expect_contains "$WORK/out" "all_earlier from-other"
expect_contains "$WORK/out" "all_earlier partial"
expect_contains "$WORK/out" "all_earlier version=1.2.3"
expect_contains "$WORK/out" "only_build other not received"
expect_contains "$WORK/out" "none nothing received version=."
expect_contains "$WORK/out" "no_artifacts from-other"
expect_contains "$WORK/out" "no_artifacts version=."
# The project itself is untouched.
[ ! -e out ] && [ ! -e other.txt ] && [ ! -e build.env ] || fail "a job wrote into the project"
# --variable beats dotenv (§7.1: pipeline variables #3 over dotenv #7).
run_expect 0 "$GLRUNNER" exec --no-color build overridden --variable VERSION=cli
expect_contains "$WORK/out" "overridden version=cli"
echo ok
