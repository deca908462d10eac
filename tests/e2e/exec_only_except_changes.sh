#!/usr/bin/env bash
# only/except (refs by name and regexp, variables) and `changes` in only and rules: files changed
# since the merge base with the default branch plus untracked ones, compare_to, and
# --evaluate-rule-changes=false (pipeline-yaml §8.3, §8.7).
source "$(dirname "$0")/common.sh"
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.com
export GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.com
mkdir -p "$WORK/p/src" "$WORK/p/docs" && cd "$WORK/p"
git init -q -b main .
cat > .gitlab-ci.yml <<'YAML'
main_only: {script: [echo main_only ran], only: [main]}
feature_re: {script: [echo feature_re ran], only: ['/^feature\/.+$/']}
not_skipped: {script: [echo not_skipped ran], except: {variables: ['$SKIP == "yes"']}}
src_changed: {script: [echo src_changed ran], only: {changes: ['src/**/*.c']}}
docs_changed: {script: [echo docs_changed ran], only: {changes: ['docs/*.md']}}
docs_since_v0:
  script: [echo docs_since_v0 ran]
  rules:
    - changes: {paths: ['docs/*'], compare_to: $BASE_TAG}
untracked:
  script: [echo untracked ran]
  rules: [{changes: ['new/*.txt']}]
ignored:
  script: [echo ignored ran]
  rules: [{changes: ['*.log']}]
mr_only: {script: [echo mr_only ran], only: [merge_requests]}
docs_rule: {script: [echo docs_rule ran], rules: [{changes: ['docs/*.md']}]}
variables:
  BASE_TAG: v0
YAML
printf '*.log\n' > .gitignore
echo one > src/app.c
echo one > docs/readme.md
git add . && git commit -q -m first && git tag v0 && git branch release
echo two > docs/readme.md
git commit -q -am "docs on main"
git checkout -q -b feature/x
echo two > src/app.c
git commit -q -am "feature work"

# listed NAME / not_listed NAME: the job is (not) a row of the last --list.
listed() { grep -q "^$1 " "$WORK/out" || { cat "$WORK/out"; fail "$1 not listed"; }; }
not_listed() { if grep -q "^$1 " "$WORK/out"; then cat "$WORK/out"; fail "$1 listed"; fi; }

run_expect 0 "$GLRUNNER" exec --no-color --list
for job in feature_re not_skipped src_changed docs_since_v0; do listed "$job"; done
for job in main_only docs_changed untracked ignored mr_only; do not_listed "$job"; done

run_expect 0 "$GLRUNNER" exec --no-color --list --variable SKIP=yes
not_listed not_skipped

echo new > x.log
mkdir -p new && echo new > new/a.txt
run_expect 0 "$GLRUNNER" exec --no-color --list
listed untracked
not_listed ignored

run_expect 0 "$GLRUNNER" exec --no-color --list --evaluate-rule-changes=false
for job in src_changed docs_changed docs_since_v0 untracked ignored; do listed "$job"; done
run_expect 0 "$GLRUNNER" exec --help
expect_contains "$WORK/out" "--evaluate-rule-changes"

run_expect 0 "$GLRUNNER" exec --no-color --list --variable CI_PIPELINE_SOURCE=merge_request_event
listed mr_only
for job in feature_re not_skipped src_changed; do not_listed "$job"; done

not_listed docs_rule
# A merge request pipeline diffs against its target branch: release is still at v0, so the
# docs change made on main counts.
run_expect 0 "$GLRUNNER" exec --no-color --list --variable CI_PIPELINE_SOURCE=merge_request_event \
  --variable CI_MERGE_REQUEST_TARGET_BRANCH_NAME=release
listed docs_rule

run_expect 1 "$GLRUNNER" exec --no-color --list --variable BASE_TAG=no-such-tag
expect_contains "$WORK/err" ".gitlab-ci.yml:9: jobs:docs_since_v0:rules:changes:compare_to is not a valid ref: no-such-tag"

run_expect 0 "$GLRUNNER" exec --no-color
expect_contains "$WORK/out" "src_changed ran"
expect_contains "$WORK/out" "feature_re ran"
expect_contains "$WORK/out" "untracked ran"
expect_not_contains "$WORK/out" "docs_changed ran"
expect_not_contains "$WORK/out" "main_only ran"

git checkout -q main
run_expect 0 "$GLRUNNER" exec --no-color --list
listed main_only
listed untracked
for job in feature_re src_changed docs_changed; do not_listed "$job"; done
echo ok
