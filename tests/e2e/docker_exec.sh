#!/usr/bin/env bash
# `glrunner exec`: a job with `image:` runs in a container (with a service reached by
# its alias) while a job without one stays on the shell executor; --executor shell
# forces the shell executor. The working tree is copied into the container.
source "$(dirname "$0")/common.sh"
source "$(dirname "$0")/../support/docker/lib.sh"
docker_setup
mkdir -p "$WORK/proj"
cd "$WORK/proj"
echo "from the working tree" > tree.txt
cat > .gitlab-ci.yml <<'YAML'
in-docker:
  image: glrunner-test/bash:1
  services:
    - name: glrunner-test/httpd:1
      alias: web
  script:
    - cat tree.txt
    - test -f /bin/bash && echo in-container-$(hostname | cut -c1-7)
    - wget -qO- http://web/
on-host:
  script:
    - echo on-host-shell
YAML
run_expect 0 "$GLRUNNER" exec --no-color
expect_contains "$WORK/out" "Using Docker executor with image glrunner-test/bash:1 ..."
expect_contains "$WORK/out" "from the working tree"
expect_contains "$WORK/out" "in-container-runner-"
expect_contains "$WORK/out" "service-ok"
expect_contains "$WORK/out" "Using Shell (bash) executor..."
expect_contains "$WORK/out" "on-host-shell"

run_expect 0 "$GLRUNNER" exec --no-color --executor shell on-host
expect_not_contains "$WORK/out" "Using Docker executor"
expect_no_leftovers glrunner
echo ok
