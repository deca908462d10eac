#!/usr/bin/env bash
# The project variables file of `glrunner exec` (pipeline-yaml §7.1 #4, §7.7):
# .gitlab-ci-local-variables.yml by default or --variables-file; above YAML variables, below
# --variable; environment-scoped values chosen by the job's environment; errors name the
# file, line and key.
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p" && cd "$WORK/p"
git init -q -b main .
cat > .gitlab-ci.yml <<'YAML'
variables:
  FROM_YAML: yaml
  OVERRIDDEN: yaml
review:
  environment: review/$CI_COMMIT_REF_SLUG
  script: [echo "review url=$URL overridden=$OVERRIDDEN"]
production:
  environment: {name: production}
  script: [echo "production url=$URL"]
plain:
  script: [echo "plain url=$URL yaml=$FROM_YAML token=$TOKEN overridden=$OVERRIDDEN"]
YAML
cat > .gitlab-ci-local-variables.yml <<'YAML'
TOKEN: file-token
OVERRIDDEN: file
URL:
  values:
    "*": https://any.example
    "review/*": https://review.example
    production: https://prod.example
YAML
echo .gitlab-ci-local-variables.yml > .gitignore
git add .gitlab-ci.yml .gitignore >/dev/null
run_expect 0 "$GLRUNNER" exec --no-color --cache-dir "$WORK/cache"
expect_contains "$WORK/out" "review review url=https://review.example overridden=file"
expect_contains "$WORK/out" "production production url=https://prod.example"
expect_contains "$WORK/out" "plain plain url=https://any.example yaml=yaml token=file-token overridden=file"

# --variable beats the file.
run_expect 0 "$GLRUNNER" exec --no-color --cache-dir "$WORK/cache" --variable OVERRIDDEN=cli plain
expect_contains "$WORK/out" "plain plain url=https://any.example yaml=yaml token=file-token overridden=cli"

# --variables-file names another file.
printf 'TOKEN: other-token\n' > other.yml
run_expect 0 "$GLRUNNER" exec --no-color --cache-dir "$WORK/cache" --variables-file other.yml plain
expect_contains "$WORK/out" "token=other-token overridden=yaml"

# masked: true hides the value in the console output, as in a GitLab job log (the job still
# gets the real value).
cat > masked.yml <<'YAML'
SECRET:
  masked: true
  values: {"*": "s3cr3t-Value-42"}
YAML
cat > .gitlab-ci.yml <<'YAML'
show:
  script:
    - echo "secret is $SECRET"
    - test "$SECRET" = "s3cr3t-Value-42" && echo "job has the real value"
YAML
run_expect 0 "$GLRUNNER" exec --no-color --cache-dir "$WORK/cache" --variables-file masked.yml
expect_contains "$WORK/out" "show secret is [MASKED]"
expect_contains "$WORK/out" "show job has the real value"
expect_not_contains "$WORK/out" "s3cr3t-Value-42"
printf 'PIN:\n  masked: true\n  values: {"*": "1234"}\n' > short.yml
run_expect 1 "$GLRUNNER" exec --no-color --variables-file short.yml
expect_contains "$WORK/err" "short.yml:3: PIN:values:*: a masked value needs at least 8 characters"

# A bad file stops the run with file, line and key.
printf 'GOOD: x\nBAD:\n  values: [1]\n' > bad.yml
run_expect 1 "$GLRUNNER" exec --no-color --variables-file bad.yml
expect_contains "$WORK/err" "bad.yml:3: BAD:values: should be a map of environment scope to value"
run_expect 1 "$GLRUNNER" exec --no-color --variables-file missing.yml
expect_contains "$WORK/err" "--variables-file missing.yml: no such file"
echo ok
