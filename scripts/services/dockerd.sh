#!/usr/bin/env bash
# Starts or stops a Docker Engine for the docker executor tests.
#   dockerd.sh start   install docker.io if missing; start dockerd (unix socket plus
#                      tcp://127.0.0.1:$GLR_DOCKER_TCP_PORT) unless a daemon already answers
#   dockerd.sh stop    stop the daemon only if `start` started it
# Exit 0 when a daemon answers on /var/run/docker.sock, 1 otherwise.
set -uo pipefail

state_dir=${GLR_DOCKERD_STATE:-/tmp/glr-dockerd-state}
sock=/var/run/docker.sock
tcp_port=${GLR_DOCKER_TCP_PORT:-23750}

ping() { curl -fsS --max-time 3 --unix-socket "$sock" http://localhost/_ping >/dev/null 2>&1; }

start() {
  mkdir -p "$state_dir"
  if ping; then
    echo "dockerd: a daemon already answers on $sock"
    return 0
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends docker.io \
      >"$state_dir/apt.log" 2>&1 || { echo "dockerd: cannot install docker.io" >&2; return 1; }
  fi
  dockerd -H "unix://$sock" -H "tcp://127.0.0.1:$tcp_port" --data-root "$state_dir/data" \
    --exec-root "$state_dir/exec" --pidfile "$state_dir/dockerd.pid" \
    >"$state_dir/dockerd.log" 2>&1 &
  echo $! >"$state_dir/started.pid"
  for _ in $(seq 1 60); do
    if ping; then
      echo "dockerd: started (pid $(cat "$state_dir/started.pid"), tcp 127.0.0.1:$tcp_port)"
      return 0
    fi
    kill -0 "$(cat "$state_dir/started.pid")" 2>/dev/null || break
    sleep 0.5
  done
  echo "dockerd: did not come up; last log lines:" >&2
  tail -n 20 "$state_dir/dockerd.log" >&2
  stop
  return 1
}

stop() {
  [ -f "$state_dir/started.pid" ] || return 0
  local pid
  pid=$(cat "$state_dir/started.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$state_dir/started.pid"
  echo "dockerd: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
