#!/usr/bin/env bash
# include:local (plain, leading '/', wildcards, nested) is merged before extends, the main file
# deep-merged on top; include forms that need GitLab fail with the include named, and
# include:project reads a local clone given with --include-project (pipeline-yaml §6.1-6.3, §6.9).
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

# The same include from a local clone, at the include's ref (--include-project).
mkdir -p "$WORK/shared/templates"
git -C "$WORK/shared" init -q -b main
printf 'shared-job:\n  script:\n    - echo "from the shared project at v1"\n' > "$WORK/shared/templates/ci.yml"
git -C "$WORK/shared" add -A
git -C "$WORK/shared" -c user.name=t -c user.email=t@example.com commit -qm v1
git -C "$WORK/shared" tag v1
printf 'shared-job:\n  script:\n    - echo "from the shared project at main"\n' > "$WORK/shared/templates/ci.yml"
git -C "$WORK/shared" -c user.name=t -c user.email=t@example.com commit -qam main
run_expect 0 "$GLRUNNER" exec --no-color --include-project "group/shared=$WORK/shared"
expect_contains "$WORK/out" "from the shared project at main"
sed -i 's#    file: /templates/ci.yml#    file: /templates/ci.yml\n    ref: v1#' .gitlab-ci.yml
run_expect 0 "$GLRUNNER" exec --no-color --include-project "group/shared=$WORK/shared"
expect_contains "$WORK/out" "from the shared project at v1"
run_expect 1 "$GLRUNNER" exec --no-color --include-project "group/shared"
expect_contains "$WORK/err" "--include-project \"group/shared\": expected PATH=DIR"
run_expect 1 "$GLRUNNER" exec --no-color --include-project "group/shared=$WORK/nowhere"
expect_contains "$WORK/err" "is not a directory"
cat > .gitlab-ci.yml <<'YAML'
include: ci/missing.yml
job: {script: [echo]}
YAML
run_expect 1 "$GLRUNNER" exec --no-color
expect_contains "$WORK/err" ".gitlab-ci.yml:1: include: Local file \`ci/missing.yml\` does not exist"
echo ok
