#!/usr/bin/env bash
# coverage: the last log line matching the regex gives the job's coverage, shown in the
# summary table (pipeline-yaml §11.2).
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/p" && cd "$WORK/p"
cat > .gitlab-ci.yml <<'YAML'
unit:
  coverage: '/^\s*Lines:\s*(\d+.\d+)\%/'
  script:
    - 'echo "Lines: 48.46%"'
    - 'echo "Lines: 78.46%"' 
plain:
  script: ['echo "Lines: 12.00%"']
YAML
run_expect 0 "$GLRUNNER" exec --no-color
grep -E "^unit +test +passed +[0-9.]+s +coverage 78.46%$" "$WORK/out" >/dev/null ||
  { cat "$WORK/out"; fail "no coverage 78.46% in unit's summary line"; }
grep -E "^plain .*coverage" "$WORK/out" && fail "plain has no coverage: regex"
echo ok
