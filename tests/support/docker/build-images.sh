#!/usr/bin/env bash
# Imports the docker executor's test images from local files (no registry needed);
# idempotent: an image that already exists is kept.
#   glrunner-test/sh:1     busybox-static only (sh, no bash)
#   glrunner-test/bash:1   busybox plus the host's bash and its libraries
#   glrunner-test/httpd:1  busybox httpd serving "service-ok" on port 80 (EXPOSE 80)
set -euo pipefail

docker_cmd=${DOCKER:-docker}
have() { "$docker_cmd" image inspect "$1" >/dev/null 2>&1; }

busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" 2>/dev/null | grep -q static; then
  if [ ! -x /bin/busybox ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
  fi
  busybox=/bin/busybox
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

base_rootfs() {
  local root=$1
  mkdir -p "$root"/{bin,etc,tmp,root,www,usr/bin}
  chmod 1777 "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  for applet in $("$busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
}

if ! have glrunner-test/sh:1; then
  base_rootfs "$work/sh"
  tar -C "$work/sh" -c . | "$docker_cmd" import - glrunner-test/sh:1 >/dev/null
fi

if ! have glrunner-test/bash:1; then
  base_rootfs "$work/bash"
  rm -f "$work/bash/bin/bash"
  cp "$(command -v bash)" "$work/bash/bin/bash"
  for lib in $(ldd "$(command -v bash)" | grep -o '/[^ ]*'); do
    mkdir -p "$work/bash$(dirname "$lib")"
    cp -L "$lib" "$work/bash$lib"
  done
  tar -C "$work/bash" -c . | "$docker_cmd" import - glrunner-test/bash:1 >/dev/null
fi

if ! have glrunner-test/httpd:1; then
  base_rootfs "$work/httpd"
  echo service-ok >"$work/httpd/www/index.html"
  tar -C "$work/httpd" -c . | "$docker_cmd" import \
    --change 'EXPOSE 80' --change 'CMD ["/bin/httpd", "-f", "-v", "-p", "80", "-h", "/www"]' \
    - glrunner-test/httpd:1 >/dev/null
fi
echo "test images ready"
