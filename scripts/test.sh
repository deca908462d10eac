#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs the whole suite.
# Ends with ctest's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
# The S3 cache tests run against s3rver (npm, test-only), installed once into build/s3rver.
if [ ! -x build/s3rver/node_modules/.bin/s3rver ]; then
  src/artifacts/s3rver/install.sh build/s3rver ||
    echo "WARNING: s3rver could not be installed; the S3 cache tests will skip" >&2
fi
cd build
# Jobs run in login shells (`bash -l`, as the official shell executor). A developer's
# ~/.bashrc (pyenv, nvm, ...) would run in every one of them; concurrent `pyenv rehash`
# calls block each other for a minute. Tests get a clean HOME instead.
TEST_HOME=$(mktemp -d)
trap 'rm -rf "$TEST_HOME"' EXIT
export HOME="$TEST_HOME"
ctest --output-on-failure --timeout 600 -j "$(nproc 2>/dev/null || echo 2)"
