#!/usr/bin/env bash
# exec keeps caches between runs (issue: caches flow between runs; executors §5.5 local
# layout, pipeline-yaml §9.10): the same cache-extractor/cache-archiver stages as `run`,
# under --cache-dir; key:files hashes the listed files as GitLab does; the project itself is
# not written to.
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p" && cd "$WORK/p"
git init -q . && git config user.email t@example.com && git config user.name t
cat > .gitlab-ci.yml <<'YAML'
deps:
  cache:
    key:
      files: [lock.txt]
      prefix: deps
    paths: [vendor/]
  script:
    - if [ -f vendor/stamp ]; then echo "RESTORED $(cat vendor/stamp)"; else echo "COLD"; fi
    - mkdir -p vendor && echo "run-$RUN" > vendor/stamp
pulled:
  cache:
    key: shared
    paths: [out/]
    policy: pull
  script:
    - test ! -e out/x && echo "NOTHING TO PULL"
YAML
echo v1 > lock.txt
git add . && git commit -qm init
cache="$WORK/cache"
run_expect 0 "$GLRUNNER" exec --no-color --cache-dir "$cache" --variable RUN=1
grep -q "deps COLD" "$WORK/out" || { cat "$WORK/out"; fail "first run found a cache"; }
grep -q "pulled NOTHING TO PULL" "$WORK/out" || { cat "$WORK/out"; fail "pull policy job"; }
ls "$cache"/deps-*/cache.zip >/dev/null 2>&1 || { find "$cache"; fail "no deps-<digest>/cache.zip under --cache-dir"; }
run_expect 0 "$GLRUNNER" exec --no-color --cache-dir "$cache" --variable RUN=2
grep -q "deps RESTORED run-1" "$WORK/out" || { cat "$WORK/out"; fail "second run did not restore run 1's cache"; }
# A changed lock file is another key: a cold cache again.
echo v2 > lock.txt && git commit -qam bump
run_expect 0 "$GLRUNNER" exec --no-color --cache-dir "$cache" --variable RUN=3
grep -q "deps COLD" "$WORK/out" || { cat "$WORK/out"; fail "key:files did not change the key"; }
[ "$(ls -d "$cache"/deps-* | wc -l)" = 2 ] || { find "$cache"; fail "expected two deps-<digest> keys"; }
[ ! -e vendor ] || fail "the project was written to"
[ -z "$(git status --porcelain)" ] || { git status; fail "the working tree changed"; }
echo ok
