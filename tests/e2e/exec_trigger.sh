#!/usr/bin/env bash
# Child pipelines of `glrunner exec` (pipeline-yaml §10): trigger:include runs the child nested,
# its job lines prefixed with the trigger path; strategy: depend takes the child's status; a
# dynamic child comes from an earlier job's artifact; multi-project triggers are skipped with
# a warning; two levels deep at most; trigger jobs accept only their keywords. Delayed jobs
# wait start_in (§4.4); artifacts stay under the cache dir after the run (§4.8).
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p/ci" && cd "$WORK/p"
git init -q -b main .
cat > .gitlab-ci.yml <<'YAML'
stages: [build, trigger, after]
variables:
  GLOBAL: from-parent
generate:
  stage: build
  script:
    - |
      cat > dynamic.yml <<'CHILD'
      dyn-job:
        script: [echo "dynamic child says $FROM_TRIGGER"]
      CHILD
  artifacts:
    paths: [dynamic.yml]
child:
  stage: trigger
  variables:
    FROM_TRIGGER: hello
  trigger:
    include: ci/child.yml
dynamic:
  stage: trigger
  variables:
    FROM_TRIGGER: generated
  trigger:
    include:
      - artifact: dynamic.yml
        job: generate
    strategy: depend
elsewhere:
  stage: trigger
  trigger:
    project: group/other-project
after:
  stage: after
  script: [echo "after runs"]
YAML
cat > ci/child.yml <<'YAML'
child-job:
  script:
    - echo "child source=$CI_PIPELINE_SOURCE global=$GLOBAL var=$FROM_TRIGGER"
child-fails:
  script: [exit 3]
YAML
git add . >/dev/null
run_expect 0 "$GLRUNNER" exec --no-color --cache-dir "$WORK/cache"
expect_contains "$WORK/out" "[child] -> child-job child source=parent_pipeline global=from-parent var=hello"
expect_contains "$WORK/out" "[dynamic] -> dyn-job dynamic child says generated"
expect_contains "$WORK/out" "after after runs"
expect_contains "$WORK/err" "multi-project pipeline \`group/other-project\` is not run locally"
# Without depend the trigger passes although its child failed; the summary lists child jobs.
grep -E '^child +trigger +passed' "$WORK/out" >/dev/null || { cat "$WORK/out"; fail "child trigger not passed"; }
grep -E '^\[child\] -> child-fails +test +failed' "$WORK/out" >/dev/null || { cat "$WORK/out"; fail "child job missing from summary"; }
grep -E '^dynamic +trigger +passed' "$WORK/out" >/dev/null || { cat "$WORK/out"; fail "dynamic trigger not passed"; }
grep -E '^elsewhere +trigger +skipped' "$WORK/out" >/dev/null || { cat "$WORK/out"; fail "multi-project not skipped"; }
expect_contains "$WORK/out" "pipeline passed"
# Artifacts stay where the user can find them.
test -f "$WORK/cache/artifacts/generate/dynamic.yml" || fail "artifacts not kept"
expect_contains "$WORK/out" "Artifacts kept in $WORK/cache/artifacts/generate"

# With depend a failing child fails the trigger job and the pipeline.
sed -i 's/    include: ci\/child.yml/    include: ci\/child.yml\n    strategy: depend/' .gitlab-ci.yml
run_expect 1 "$GLRUNNER" exec --no-color --cache-dir "$WORK/cache"
grep -E '^child +trigger +failed .*child pipeline failed' "$WORK/out" >/dev/null || { cat "$WORK/out"; fail "depend did not fail the trigger"; }
grep -E '^after +after +skipped' "$WORK/out" >/dev/null || { cat "$WORK/out"; fail "after not skipped"; }

# Two levels of child pipelines at most.
cat > .gitlab-ci.yml <<'YAML'
one:
  trigger: {include: ci/two.yml, strategy: depend}
YAML
echo 'two: {trigger: {include: ci/three.yml, strategy: depend}}' > ci/two.yml
echo 'three: {trigger: {include: ci/four.yml}}' > ci/three.yml
echo 'four: {script: [echo four]}' > ci/four.yml
git add . >/dev/null
run_expect 1 "$GLRUNNER" exec --no-color --cache-dir "$WORK/cache"
expect_contains "$WORK/out" "maximum depth of two levels of child pipelines"
expect_not_contains "$WORK/out" "echo four"

# A trigger job may use only its keywords.
cat > .gitlab-ci.yml <<'YAML'
deploy:
  trigger: {include: ci/four.yml}
  script: [echo no]
YAML
run_expect 1 "$GLRUNNER" exec --no-color --cache-dir "$WORK/cache"
expect_contains "$WORK/err" ".gitlab-ci.yml:3: jobs:deploy config contains unknown keys: script"

# when: delayed waits start_in before the job starts; --no-delay skips the wait.
cat > .gitlab-ci.yml <<'YAML'
later:
  when: delayed
  start_in: 1 second
  script: [echo "delayed job ran"]
YAML
start=$(date +%s%N)
run_expect 0 "$GLRUNNER" exec --no-color --cache-dir "$WORK/cache"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed_ms" -ge 1000 ] || fail "delayed job started after ${elapsed_ms} ms"
expect_contains "$WORK/out" "later Job is delayed: it starts in 1s (start_in)"
expect_contains "$WORK/out" "later delayed job ran"
run_expect 0 "$GLRUNNER" exec --no-color --no-delay --cache-dir "$WORK/cache"
expect_not_contains "$WORK/out" "Job is delayed"
echo ok
