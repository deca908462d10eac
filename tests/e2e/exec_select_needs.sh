#!/usr/bin/env bash
# Named jobs run alone, or with what they wait for when --needs is given (issue: run selected
# jobs with or without their needs): `needs` transitively, and for a job without `needs`
# every job of the earlier stages (pipeline-yaml §9.1, §9.2).
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p" && cd "$WORK/p"
git init -q -b main . && git config user.email t@example.com && git config user.name T
cat > .gitlab-ci.yml <<'YAML'
stages: [build, test, deploy]
compile:
  stage: build
  script: [mkdir -p out, echo compiled > out/bin]
  artifacts: {paths: [out/]}
lint:
  stage: build
  script: [echo linted]
unit:
  stage: test
  needs: [compile]
  script: [cat out/bin]
docs:
  stage: test
  script: [echo docs]
ship:
  stage: deploy
  needs: [unit]
  script: [echo shipping]
YAML
git add . && git commit -qm init
row() {  # row JOB STAGE STATE: the summary table has that row
  grep -Eq "^$1 +$2 +$3" "$WORK/out" || fail "no summary row \"$1 $2 $3\" in $WORK/out"
}

# Alone: unit has no artifact to read and fails; nothing else runs.
run_expect 1 "$GLRUNNER" exec --no-color unit
row unit test failed
expect_not_contains "$WORK/out" "compile "

# With --needs: compile, then unit, then ship; not lint or docs (ship and unit use needs).
run_expect 0 "$GLRUNNER" exec --no-color --needs ship
row compile build passed
row unit test passed
row ship deploy passed
expect_contains "$WORK/out" "unit compiled"
expect_not_contains "$WORK/out" "lint "
expect_not_contains "$WORK/out" "docs "

# A job without needs waits for every earlier stage, so --needs brings both build jobs.
run_expect 0 "$GLRUNNER" exec --no-color --needs docs --list
expect_contains "$WORK/out" "compile"
expect_contains "$WORK/out" "lint"
expect_not_contains "$WORK/out" "unit"
echo ok
