#!/usr/bin/env bash
# Installs s3rver (npm) for the S3 cache integration test into DIR (default: build-dir/s3rver),
# outside the source tree. The tests skip themselves when s3rver is not installed.
#   src/artifacts/s3rver/install.sh build/s3rver   (scripts/test.sh does this)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: install.sh DIR}
mkdir -p "$dir" && dir=$(cd "$dir" && pwd)  # absolute: the checks below run after cd
cp "$here/package.json" "$dir/package.json"
cd "$dir"
npm install --no-audit --no-fund --omit=dev --loglevel=error
test -x "$dir/node_modules/.bin/s3rver"
echo "s3rver installed in $dir/node_modules/.bin/s3rver"
