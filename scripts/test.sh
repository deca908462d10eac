#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs the whole suite.
# Ends with ctest's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
# The docker executor tests need a Docker Engine: start one when none answers (and
# stop it again at the end); without one they are reported as skipped.
./scripts/services/dockerd.sh start || echo "no Docker Engine: the docker tests will be skipped"
# The S3 cache test runs against s3rver (npm, test-only): install it into the build dir
# when missing; without npm or the registry the test reports itself skipped.
if [ ! -x build/s3rver/node_modules/.bin/s3rver ]; then
  src/artifacts/s3rver/install.sh build/s3rver || echo "s3rver not installed: the S3 cache test will be skipped"
fi
cd build
# Jobs run in login shells (`bash -l`, as the official shell executor). A developer's
# ~/.bashrc (pyenv, nvm, ...) would run in every one of them; concurrent `pyenv rehash`
# calls block each other for a minute. Tests get a clean HOME instead.
TEST_HOME=$(mktemp -d)
trap 'rm -rf "$TEST_HOME"; ../scripts/services/dockerd.sh stop' EXIT
export HOME="$TEST_HOME"
ctest --output-on-failure --timeout 600 -j "$(nproc 2>/dev/null || echo 2)"
