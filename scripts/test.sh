#!/usr/bin/env bash
# The README's test command: installs dependencies, builds, runs the whole suite.
# Ends with ctest's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 -j "$(nproc 2>/dev/null || echo 2)"
