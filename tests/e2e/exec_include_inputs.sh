#!/usr/bin/env bash
# spec:inputs in the main file (--input) and in included files (include:inputs), typed values
# and functions, conditional options/defaults (spec:inputs:rules), include:rules with command-line variables and exists, variables in include
# paths; input errors name the file and the include (pipeline-yaml §3.7, §6.7, §6.8).
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p/ci" && cd "$WORK/p"
git init -q -b main .
cat > .gitlab-ci.yml <<'YAML'
spec:
  inputs:
    env:
      default: dev
      options: [dev, prod]
    size:
      rules:
        - if: $[[ inputs.env ]] == "prod"
          options: [l, xl]
          default: xl
        - default: s
---
size-job:
  stage: test
  script:
    - echo "size=$[[ inputs.size ]]"
include:
  - local: ci/greet.yml
    inputs:
      who: $[[ inputs.env ]]
      times: 2
  - local: ci/deploy.yml
    rules:
      - if: $CI_COMMIT_REF_NAME == "main" && $DEPLOY == "yes"
  - local: ci/$EXTRA.yml
    rules:
      - exists: [extra.txt]
        when: always
stages: [build, test, deploy]
YAML
cat > ci/greet.yml <<'YAML'
spec:
  inputs:
    who:
    times:
      type: number
      default: 1
    loud:
      type: boolean
      default: false
---
greet-$[[ inputs.who ]]:
  stage: build
  parallel: $[[ inputs.times ]]
  script:
    - echo "hello $[[ inputs.who | truncate(0,3) ]] loud=$[[ inputs.loud ]]"
YAML
cat > ci/deploy.yml <<'YAML'
deploy:
  stage: deploy
  script: [echo "deploying now"]
YAML
cat > ci/lint.yml <<'YAML'
lint:
  script: [echo "linting extra"]
YAML
git add . >/dev/null
git -c user.name=t -c user.email=t@example.com commit -qm init

run_expect 0 "$GLRUNNER" exec --no-color --list
expect_contains "$WORK/out" "greet-dev 1/2"
expect_contains "$WORK/out" "greet-dev 2/2"
expect_not_contains "$WORK/out" "deploy "
expect_not_contains "$WORK/out" "lint"
run_expect 0 "$GLRUNNER" exec --no-color
expect_contains "$WORK/out" "hello dev loud=false"
expect_contains "$WORK/out" "size=s"
expect_not_contains "$WORK/out" "deploying now"

touch extra.txt
git add extra.txt >/dev/null
run_expect 1 "$GLRUNNER" exec --no-color --input env=production
expect_contains "$WORK/err" ".gitlab-ci.yml: \`env\` input: \`production\` cannot be used because it is not in the list of allowed options"
run_expect 0 "$GLRUNNER" exec --no-color --input env=prod --variable DEPLOY=yes --variable EXTRA=lint
expect_contains "$WORK/out" "hello pro loud=false"
expect_contains "$WORK/out" "size=xl"
expect_contains "$WORK/out" "deploying now"
expect_contains "$WORK/out" "linting extra"

cat > .gitlab-ci.yml <<'YAML'
include:
  - local: ci/greet.yml
    inputs:
      times: 1
YAML
run_expect 1 "$GLRUNNER" exec --no-color
expect_contains "$WORK/err" ".gitlab-ci.yml:2: include \`ci/greet.yml\`: \`who\` input: required value has not been provided"
cat > ci/typo.yml <<'YAML'
spec:
  inputs:
    who:
---
job:
  script:
    - echo "$[[ inputs.woh ]]"
YAML
git add ci/typo.yml >/dev/null
cat > .gitlab-ci.yml <<'YAML'
include:
  - local: ci/typo.yml
    inputs: {who: me}
YAML
run_expect 1 "$GLRUNNER" exec --no-color
expect_contains "$WORK/err" "ci/typo.yml:7: unknown interpolation key: \`woh\`"
echo ok
