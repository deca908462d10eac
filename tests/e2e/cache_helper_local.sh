#!/usr/bin/env bash
# `glrunner cache-archiver` / `cache-extractor` with a local archive, as the restore_cache and
# archive_cache scripts call them (executors §5.3-§5.5): the archive lands at the --file path
# relative to the project dir with metadata.json beside it, an unchanged tree is not re-archived,
# and a missing archive makes the extractor exit 1 with a warning only.
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/builds/grp/app/vendor/lib" "$WORK/cache"
cd "$WORK/builds/grp/app"
echo 'gem' > vendor/lib/a.rb
rel=../../../cache/grp/app/rspec/main/cache.zip

CACHE_METADATA='{"CacheKey":"rspec/main"}' run_expect 0 "$GLRUNNER" cache-archiver --file "$rel" \
  --alternate-file "$rel" --timeout 10 --path vendor --path 'nope/**'
expect_contains "$WORK/err" "vendor: found 3 matching artifact files and directories"
expect_contains "$WORK/err" "No URL provided, cache will not be uploaded to shared cache server. Cache will be stored only locally."
[ -f "$WORK/cache/grp/app/rspec/main/cache.zip" ] || fail "no cache.zip"
[ "$(cat "$WORK/cache/grp/app/rspec/main/metadata.json")" = '{"cachekey":"rspec/main"}' ] || fail "metadata.json"

run_expect 0 "$GLRUNNER" cache-archiver --file "$rel" --alternate-file "$rel" --timeout 10 --path vendor
expect_contains "$WORK/err" "Archive is up to date!"

rm -rf vendor
CACHE_COMPRESSION_LEVEL=fastest run_expect 0 "$GLRUNNER" cache-extractor --file "$rel" --timeout 10
[ "$(cat vendor/lib/a.rb)" = gem ] || fail "not restored"

run_expect 1 "$GLRUNNER" cache-extractor --file ../../../cache/grp/app/other/cache.zip --timeout 10
expect_contains "$WORK/err" "WARNING: Cache file does not exist"
expect_not_contains "$WORK/err" "FATAL"

run_expect 0 "$GLRUNNER" cache-archiver --file "$rel" --path missing
expect_contains "$WORK/err" "WARNING: No files to cache."

# CACHE_COMPRESSION_FORMAT=tarzstd: same file name, zstd magic, extracted by magic.
zst=../../../cache/grp/app/zst/cache.zip
CACHE_COMPRESSION_FORMAT=tarzstd run_expect 0 "$GLRUNNER" cache-archiver --file "$zst" --path vendor
[ "$(head -c 4 "$zst" | od -An -tx1 | tr -d ' ')" = 28b52ffd ] || fail "not a zstd archive"
rm -rf vendor
run_expect 0 "$GLRUNNER" cache-extractor --file "$zst"
[ "$(cat vendor/lib/a.rb)" = gem ] || fail "not restored from tar.zst"
echo ok
