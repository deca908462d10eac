#!/usr/bin/env bash
# Builds the glrunner container image (packaging/docker/Dockerfile) on a host that
# cannot pull from a registry: when no debian:12 image is present, one is made from
# the Debian mirror with debootstrap and `docker import`.
# Usage: packaging/docker/build-image.sh [tag]   (needs a running Docker daemon, root)
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${1:-glrunner:dev}
if ! docker image inspect debian:12 >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  tar -C "$rootfs" -c . | docker import - debian:12 >/dev/null
fi
docker build -f packaging/docker/Dockerfile -t "$tag" .
