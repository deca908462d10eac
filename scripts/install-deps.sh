#!/usr/bin/env bash
# Installs every Debian 12 package glrunner needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt-get itself.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git bash ca-certificates curl jq procps
  libcurl4-openssl-dev libssl-dev zlib1g-dev
  nlohmann-json3-dev libtomlplusplus-dev libyaml-cpp-dev libcli11-dev
  libspdlog-dev libfmt-dev libre2-dev libarchive-dev libexpected-dev libboost-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # test-only: docker test images are assembled from busybox-static
  busybox-static file socat openssl
)

missing=()
# test-only: s3rver runs on node. A node that already brings its own npm (e.g. another
# vendor's nodejs package, which conflicts with Debian's npm) is kept as it is.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
