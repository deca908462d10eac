#!/usr/bin/env bash
# Times `glrunner cache-archiver` (archive into the local cache file) and `cache-extractor` on a
# ~1 GB tree, the figure of executors §5.7 / issue 5: the official runner is reported at 42 s for
# 931 MB; the target is under a tenth of that.
#   bench/cache_bench.sh [GLRUNNER] [WORKDIR]
# Env: BENCH_MB (tree size, default 1024), BENCH_FILES (default 1000), CACHE_COMPRESSION_LEVEL
# (passed through; unset = the archiver's default). Prints `name value` lines.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
glrunner=${1:-$here/../build/glrunner}
work=${2:-$(mktemp -d)}
mb=${BENCH_MB:-1024}
files=${BENCH_FILES:-1000}
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# Half the files are text (log-like lines: compressible ~10x), half random bytes (incompressible,
# like already-compressed packages). Same total size either way.
tree="$work/project/vendor"
mkdir -p "$tree"
per_file_kb=$((mb * 1024 / files))
for ((i = 0; i < files; i++)); do
  d="$tree/d$((i % 20))"
  mkdir -p "$d"
  if ((i % 2 == 0)); then
    head -c "${per_file_kb}K" /dev/urandom >"$d/blob$i.bin"
  else
    awk -v n="$i" -v kb="$per_file_kb" 'BEGIN { srand(n); s = 0;
      while (s < kb * 1024) { l = sprintf("%06d INFO worker-%d processed item %d in %d ms status=ok\n",
        NR++, n % 7, int(rand() * 100000), int(rand() * 900)); printf "%s", l; s += length(l) } }' \
      >"$d/log$i.txt"
  fi
done
total=$(du -sb "$tree" | cut -f1)
sync

now() { date +%s.%N; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / 1e6 / s }'; }

cd "$work/project"
t0=$(now)
"$glrunner" cache-archiver --file "$work/cache/key/cache.zip" --path vendor >"$work/archiver.log" 2>&1 ||
  { cat "$work/archiver.log"; exit 1; }
t1=$(now)
archive=$(stat -c %s "$work/cache/key/cache.zip")
rm -rf "$work/project/vendor"
t2=$(now)
"$glrunner" cache-extractor --file "$work/cache/key/cache.zip" >"$work/extractor.log" 2>&1 ||
  { cat "$work/extractor.log"; exit 1; }
t3=$(now)
restored=$(du -sb "$tree" | cut -f1)
[ "$restored" = "$total" ] || { echo "restored $restored bytes, expected $total" >&2; exit 1; }

arch_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
extr_s=$(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.2f", b - a }')
echo "tree_bytes $total"
echo "tree_files $files"
echo "archive_bytes $archive"
echo "cache_archiver_seconds $arch_s"
echo "cache_archiver_mb_per_s $(rate "$total" "$arch_s")"
echo "cache_extractor_seconds $extr_s"
echo "cache_extractor_mb_per_s $(rate "$total" "$extr_s")"
echo "# CACHE_COMPRESSION_LEVEL=${CACHE_COMPRESSION_LEVEL:-<unset>}; official runner: 931 MB in 42 s (22 MB/s)"
