#!/usr/bin/env bash
# Runs a command with a Docker engine, for the container test (internal/systemtest/containertest).
#   infra/with-docker.sh go test -tags integration ./internal/systemtest/containertest/
#
# Uses the engine `docker info` reaches when there is one. Otherwise, as root on a
# Debian or Ubuntu machine, it installs Debian's docker.io with apt-get when dockerd is
# missing, starts a dockerd of its own (its socket, state and log in a temporary folder;
# the default bridge, docker0), runs the command with DOCKER_HOST pointing at it, and
# stops that dockerd, by its pid, when the command ends. An engine it did not start is
# never stopped.
#
# When no engine can be had (not root, no apt-get, the install or dockerd failed):
# with CONTAINER_TEST_OPTIONAL=1 (make test) it prints one line saying why, and runs the
# command with CONTAINER_TEST_SKIP set to that reason, which the container test reports
# as its skip; without it (make test-container) it fails with that line.
set -uo pipefail

dockerd_pid=""
cannot() {
  local reason=$1
  shift
  [ -z "$dockerd_pid" ] || stop_dockerd
  trap - EXIT
  [ -z "${dir:-}" ] || rm -rf "$dir" 2>/dev/null || true
  if [ "${CONTAINER_TEST_OPTIONAL:-}" = 1 ]; then
    echo "container test skipped: $reason" >&2
    CONTAINER_TEST_SKIP="$reason" exec "$@"
  fi
  echo "no Docker engine for the container test: $reason" >&2
  exit 1
}

if command -v docker >/dev/null 2>&1; then
  info=$(docker info 2>&1 >/dev/null) && exec "$@"
  case "$info" in
  *"permission denied while trying to connect"*) cannot "the Docker engine refuses this user (permission denied on its socket; the docker group grants it)" "$@" ;;
  esac
fi

if ! command -v dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || cannot "no Docker engine is running and dockerd is not installed (install Docker, or run as root on Debian/Ubuntu so that docker.io is installed)" "$@"
  command -v apt-get >/dev/null 2>&1 || cannot "no Docker engine is running, dockerd is not installed, and there is no apt-get to install docker.io with" "$@"
  echo "installing docker.io with apt-get (about 1 min the first time)" >&2
  log=$(mktemp -t docker-install.XXXXXX.log)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io; } >"$log" 2>&1; then
    tail -n 5 "$log" >&2
    cannot "apt-get install docker.io failed (log: $log)" "$@"
  fi
  rm -f "$log"
fi
[ "$(id -u)" = 0 ] || cannot "no Docker engine is running, and starting dockerd needs root" "$@"
command -v docker >/dev/null 2>&1 || cannot "dockerd is installed but the docker client is not" "$@"

dir=$(mktemp -d -t dockerd.XXXXXX)
stop_dockerd() {
  kill -TERM "$dockerd_pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$dockerd_pid" 2>/dev/null || true
  wait "$dockerd_pid" 2>/dev/null || true
}
trap 'stop_dockerd; rm -rf "$dir" 2>/dev/null || true' EXIT
export DOCKER_HOST="unix://$dir/docker.sock"
# start_dockerd FLAGS...: 0 once it answers, 1 if it ended first, 2 if it did not answer in 30 s.
start_dockerd() {
  dockerd --host "$DOCKER_HOST" --pidfile "$dir/docker.pid" \
    --data-root "$dir/data" --exec-root "$dir/exec" "$@" >"$dir/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 300); do
    docker info >/dev/null 2>&1 && return 0
    kill -0 "$dockerd_pid" 2>/dev/null || { wait "$dockerd_pid" 2>/dev/null; dockerd_pid=""; return 1; }
    sleep 0.1
  done
  return 2
}
echo "starting dockerd for the container test (a few seconds; log $dir/dockerd.log)" >&2
start_dockerd
started=$?
if [ $started = 1 ] && grep -qi iptables "$dir/dockerd.log"; then
  # A sandbox without a usable iptables: the bridge itself still works, and docker-proxy
  # publishes ports; only the NAT to the outside, which the test does not use, is lost.
  echo "dockerd cannot use iptables here; starting it again with --iptables=false" >&2
  start_dockerd --iptables=false --ip6tables=false
  started=$?
fi
case $started in
0) ;;
1) tail -n 5 "$dir/dockerd.log" >&2; cannot "dockerd did not start (log above)" "$@" ;;
*) cannot "dockerd did not answer within 30 s" "$@" ;;
esac
"$@"
