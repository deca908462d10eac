#!/usr/bin/env bash
# Wall time of `glrunner exec` vs gitlab-ci-local (--shell-isolation and default) on three
# generated pipelines: a 60-job fan-out over 3 stages, a 30-job DAG passing small artifacts
# through needs, one job printing 20 MB. Installs gitlab-ci-local from npm into bench/.tools
# (git-ignored) on first use. Prints one line per tool and pipeline, and the ratios; exits 1
# when the job outcomes differ.
#   bench/exec_vs_gitlab_ci_local.sh [build/glrunner]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
glrunner=$(realpath "${1:-$here/../build/glrunner}")
tools=$here/.tools
if [ ! -e "$tools/node_modules/gitlab-ci-local/dist/index.js" ]; then
  mkdir -p "$tools"
  npm install --no-audit --no-fund --prefix "$tools" gitlab-ci-local >/dev/null
fi
# The current bundle uses Node 22's Set methods; on older Node they are supplied here.
cat > "$tools/set-methods.mjs" <<'JS'
const S = Set.prototype;
S.union ??= function (o) { const r = new Set(this); for (const v of o.keys()) r.add(v); return r; };
S.intersection ??= function (o) { return new Set([...this].filter((v) => o.has(v))); };
S.difference ??= function (o) { return new Set([...this].filter((v) => !o.has(v))); };
S.symmetricDifference ??= function (o) {
  const r = new Set(this);
  for (const v of o.keys()) { if (this.has(v)) r.delete(v); else r.add(v); }
  return r;
};
S.isSubsetOf ??= function (o) { return [...this].every((v) => o.has(v)); };
S.isSupersetOf ??= function (o) { for (const v of o.keys()) if (!this.has(v)) return false; return true; };
S.isDisjointFrom ??= function (o) { return [...this].every((v) => !o.has(v)); };
JS
gcl() { node --import "$tools/set-methods.mjs" "$tools/node_modules/gitlab-ci-local/dist/index.js" "$@"; }
echo "# glrunner $("$glrunner" --version 2>/dev/null | head -1), gitlab-ci-local $(gcl --version), $(nproc) cores"
work=$(mktemp -d "${TMPDIR:-/tmp}/glr-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

make_project() {  # make_project NAME; the YAML on stdin
  mkdir -p "$work/$1"
  cat > "$work/$1/.gitlab-ci.yml"
  (cd "$work/$1" && git init -q . && git config user.email b@example.com &&
   git config user.name bench && git remote add origin git@gitlab.example.com:bench/p.git &&
   echo "# bench" > README.md && git add -A &&
   git commit -qm bench)
}

{
  echo "stages: [one, two, three]"
  for s in one two three; do
    for i in $(seq 1 20); do
      printf '%s_%s:\n  stage: %s\n  script: [echo "job %s %s"]\n' "$s" "$i" "$s" "$s" "$i"
    done
  done
} | make_project fanout

{
  echo "stages: [build]"
  for i in $(seq 1 30); do
    printf 'dag_%s:\n  stage: build\n' "$i"
    if [ "$i" -gt 1 ]; then
      printf '  needs: [dag_%s]\n' "$((i - 1))"
      printf '  script: [cat out/%s.txt, mkdir -p out, echo %s > out/%s.txt]\n' "$((i - 1))" "$i" "$i"
    else
      printf '  script: [mkdir -p out, echo 1 > out/1.txt]\n'
    fi
    printf '  artifacts: {paths: [out/]}\n'
  done
} | make_project dag

make_project biglog <<'YAML'
log:
  script:
    - awk 'BEGIN { for (i = 0; i < 250000; i++) printf "%079d\n", i }'
YAML

now() { date +%s.%N; }
outcome() {  # the job lines of a summary: name and passed/failed
  grep -E -o '^[a-z_0-9]+ +[a-z0-9]+ +(passed|failed)|PASS +[a-z_0-9]+|FAIL +[a-z_0-9]+' "$1" |
    awk '{ if ($1=="PASS") print $2, "passed"; else if ($1=="FAIL") print $2, "failed"; else print $1, $3 }' |
    sort
}

declare -A secs
for p in ${BENCH_ONLY:-fanout dag biglog}; do
  cd "$work/$p"
  t0=$(now); "$glrunner" exec --no-color > "$work/$p.glr" 2>&1 || true; t1=$(now)
  secs[$p.glrunner]=$(echo "$t1 - $t0" | bc)
  t0=$(now); gcl --shell-isolation > "$work/$p.iso" 2>&1 || true; t1=$(now)
  secs[$p.isolation]=$(echo "$t1 - $t0" | bc)
  rm -rf .gitlab-ci-local
  t0=$(now); gcl > "$work/$p.gcl" 2>&1 || true; t1=$(now)
  secs[$p.default]=$(echo "$t1 - $t0" | bc)
  rm -rf .gitlab-ci-local
  printf '%-7s glrunner %7.2fs  gcl --shell-isolation %7.2fs (%5.1fx)  gcl default %7.2fs (%5.1fx)\n' \
    "$p" "${secs[$p.glrunner]}" "${secs[$p.isolation]}" \
    "$(echo "${secs[$p.isolation]} / ${secs[$p.glrunner]}" | bc -l)" "${secs[$p.default]}" \
    "$(echo "${secs[$p.default]} / ${secs[$p.glrunner]}" | bc -l)"
  if [ "$(outcome "$work/$p.glr")" != "$(outcome "$work/$p.iso")" ]; then
    echo "$p: job outcomes differ" >&2
    diff <(outcome "$work/$p.glr") <(outcome "$work/$p.iso") >&2 || true
    exit 1
  fi
done
