#!/usr/bin/env bash
# include:local (plain, leading '/', wildcards, nested) is merged before extends, the main file
# deep-merged on top; include forms that need GitLab fail with the include named
# (pipeline-yaml §6.1, §6.2, §6.9).
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p/ci/jobs/extra" && cd "$WORK/p"
git init -q -b main .
cat > .gitlab-ci.yml <<'YAML'
include:
  - local: /ci/base.yml
  - ci/jobs/*.yml
stages: [build, test]
lint:
  variables:
    WHERE: main-file
YAML
cat > ci/base.yml <<'YAML'
include: ci/jobs/extra/**.yml
.base:
  stage: test
  script: [echo "base $WHERE"]
variables:
  WHERE: base-file
YAML
cat > ci/jobs/lint.yml <<'YAML'
lint:
  extends: .base
YAML
cat > ci/jobs/build.yml <<'YAML'
build:
  stage: build
  script: [echo "build from ci/jobs"]
YAML
cat > ci/jobs/extra/nested.yml <<'YAML'
nested:
  extends: .base
  script: [echo "nested include"]
YAML
git add . >/dev/null
run_expect 0 "$GLRUNNER" exec --no-color --list
expect_contains "$WORK/out" "build"
expect_contains "$WORK/out" "lint"
expect_contains "$WORK/out" "nested"
run_expect 0 "$GLRUNNER" exec --no-color
expect_contains "$WORK/out" "build build from ci/jobs"
expect_contains "$WORK/out" "lint base main-file"
expect_contains "$WORK/out" "nested nested include"

cat > .gitlab-ci.yml <<'YAML'
include:
  - project: group/shared
    file: /templates/ci.yml
job: {script: [echo]}
YAML
run_expect 1 "$GLRUNNER" exec --no-color
expect_contains "$WORK/err" ".gitlab-ci.yml:2: include: project \`group/shared\` file \`/templates/ci.yml\` cannot be resolved offline"
cat > .gitlab-ci.yml <<'YAML'
include: ci/missing.yml
job: {script: [echo]}
YAML
run_expect 1 "$GLRUNNER" exec --no-color
expect_contains "$WORK/err" ".gitlab-ci.yml:1: include: Local file \`ci/missing.yml\` does not exist"
echo ok
