#!/usr/bin/env bash
# Wall time of `glrunner exec` against gitlab-ci-local (--shell-isolation and default mode) on
# three generated pipelines: a 60-job fan-out over 3 stages, a 30-job DAG passing small
# artifacts through needs, and one job printing 20 MB. Installs gitlab-ci-local from npm into
# bench/.tools (git-ignored) on first use. Usage: bench/exec_vs_gitlab_ci_local.sh [glrunner]
# Prints one line per pipeline (best of ROUNDS=3 wall times per tool) and the ratios; exits 1
# when the job outcomes differ.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
GLRUNNER=$(realpath "${1:-$here/../build/glrunner}")
TOOLS=$here/.tools
GCL=$TOOLS/node_modules/.bin/gitlab-ci-local
# 4.70.1: later releases need Node 22 (Set.prototype.union); Debian 12 ships an older Node.
GCL_VERSION=${GCL_VERSION:-4.70.1}
if [ ! -x "$GCL" ]; then
  mkdir -p "$TOOLS"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" "gitlab-ci-local@$GCL_VERSION" >/dev/null
fi
# gitlab-ci-local starts every ready job at once; glrunner defaults to one job per core.
GLR_CONCURRENCY=${GLR_CONCURRENCY:-16}
ROUNDS=${ROUNDS:-3}  # each figure is the best of this many runs
WORK=$(mktemp -d "${TMPDIR:-/tmp}/glr-bench-exec-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export HOME=$WORK/home  # gitlab-ci-local reads ~/.gitlab-ci-local; keep the user's out
mkdir -p "$HOME"

new_project() {  # new_project NAME: a git repository with the pipeline on stdin
  local dir=$WORK/$1
  mkdir -p "$dir"
  cat > "$dir/.gitlab-ci.yml"
  echo "# $1" > "$dir/README.md"
  git -C "$dir" init -q -b main
  git -C "$dir" -c user.email=b@example.com -c user.name=bench add .
  git -C "$dir" -c user.email=b@example.com -c user.name=bench commit -qm bench
}

# 60 jobs over 3 stages, 20 per stage.
{
  echo "stages: [one, two, three]"
  for stage in one two three; do
    for i in $(seq 1 20); do
      printf '%s-%02d:\n  stage: %s\n  script:\n    - echo "job $CI_JOB_NAME in $CI_JOB_STAGE"\n' \
        "$stage" "$i" "$stage"
    done
  done
} | new_project fanout

# 30 jobs in a binary tree of needs: job i needs job (i-1)/2 and gets its artifact file.
{
  echo "stages: [d0, d1, d2, d3, d4]"
  for i in $(seq 0 29); do
    depth=0; n=$((i + 1)); while [ $n -gt 1 ]; do n=$((n / 2)); depth=$((depth + 1)); done
    printf 'node-%02d:\n  stage: d%d\n' "$i" "$depth"
    if [ "$i" -gt 0 ]; then
      parent=$(((i - 1) / 2))
      printf '  needs: [node-%02d]\n  script:\n    - cat out/node-%02d.txt\n' "$parent" "$parent"
    else
      printf '  script:\n    - mkdir -p out\n'
    fi
    printf '    - mkdir -p out && echo "artifact of node-%02d" > out/node-%02d.txt\n' "$i" "$i"
    printf '  artifacts:\n    paths: [out/node-%02d.txt]\n' "$i"
  done
} | new_project dag

# One job printing 20 MB (15 MB of random bytes, base64 in 100-column lines).
cat <<'YAML' | new_project log20
big-log:
  script:
    - head -c 15000000 /dev/urandom | base64 -w 100
YAML

# time_run OUT CMD...: runs CMD in the current directory, prints the wall seconds.
time_run() {
  local out=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" >"$out" 2>&1 || true
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

# min A B: the smaller number (A may be empty).
min() {
  if [ -z "$1" ] || [ "$(echo "$2 < $1" | bc)" = 1 ]; then echo "$2"; else echo "$1"; fi
}

# Outcomes as "job status" lines, sorted: glrunner's summary table / gitlab-ci-local's
# PASS/FAIL lines.
glrunner_outcomes() {
  sed -n '/^job  /,/^pipeline /p' "$1" | awk 'NR>1 && !/^pipeline/ {print $1, ($3=="passed" ? "pass" : "fail")}' | sort
}
gcl_outcomes() {
  sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '$1=="PASS" || $1=="FAIL" {print $2, tolower($1)}' | sort
}

status=0
declare -A T
for p in fanout dag log20; do
  cd "$WORK/$p"
  # Best of ROUNDS, the three tools interleaved, so a burst of load elsewhere hits all alike.
  for round in $(seq 1 "$ROUNDS"); do
    t=$(time_run "$WORK/$p.glr" "$GLRUNNER" exec --no-color --concurrency "$GLR_CONCURRENCY")
    T[$p,glr]=$(min "${T[$p,glr]:-}" "$t")
    rm -rf .gitlab-ci-local
    t=$(time_run "$WORK/$p.iso" "$GCL" --shell-isolation)
    T[$p,iso]=$(min "${T[$p,iso]:-}" "$t")
    rm -rf .gitlab-ci-local
    t=$(time_run "$WORK/$p.gcl" "$GCL")
    T[$p,gcl]=$(min "${T[$p,gcl]:-}" "$t")
    rm -rf .gitlab-ci-local
  done
  glrunner_outcomes "$WORK/$p.glr" > "$WORK/$p.glr.outcomes"
  gcl_outcomes "$WORK/$p.iso" > "$WORK/$p.iso.outcomes"
  gcl_outcomes "$WORK/$p.gcl" > "$WORK/$p.gcl.outcomes"
  jobs=$(wc -l < "$WORK/$p.glr.outcomes")
  passed=$(grep -c ' pass$' "$WORK/$p.glr.outcomes" || true)
  same="identical"
  if ! cmp -s "$WORK/$p.glr.outcomes" "$WORK/$p.iso.outcomes" ||
     ! cmp -s "$WORK/$p.glr.outcomes" "$WORK/$p.gcl.outcomes" || [ "$jobs" = 0 ]; then
    same="DIFFERENT"
    status=1
    diff "$WORK/$p.glr.outcomes" "$WORK/$p.iso.outcomes" | head -5 || true
  fi
  printf '%-7s glrunner %6.2fs  gcl --shell-isolation %6.2fs  gcl default %6.2fs  ' \
    "$p" "${T[$p,glr]}" "${T[$p,iso]}" "${T[$p,gcl]}"
  printf 'x%.1f vs isolation, x%.1f vs default; %s/%s jobs passed, outcomes %s\n' \
    "$(echo "${T[$p,iso]} / ${T[$p,glr]}" | bc -l)" "$(echo "${T[$p,gcl]} / ${T[$p,glr]}" | bc -l)" \
    "$passed" "$jobs" "$same"
done
if [ "$status" != 0 ]; then
  for p in fanout dag log20; do tail -5 "$WORK/$p.glr" "$WORK/$p.iso"; done
fi
exit $status
