#!/usr/bin/env bash
# The README's first command: installs dependencies, builds, and runs the bundled
# example pipeline with `glrunner exec`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
cd examples/hello
../../build/glrunner exec
