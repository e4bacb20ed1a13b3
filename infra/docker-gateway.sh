#!/usr/bin/env bash
# Prints the address a function's container reaches this host on as
# host.docker.internal (--add-host host.docker.internal:host-gateway): the gateway of
# Docker's default bridge (docker0), when a Docker engine answers and that address
# belongs to this machine. Prints nothing otherwise: no Docker, or Docker Desktop
# (macOS, Windows), whose bridge lives in a VM and which forwards
# host.docker.internal to the host's loopback by itself.
set -uo pipefail
gw=""
if command -v docker >/dev/null 2>&1; then
  gw=$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null || true)
fi
if [ -z "$gw" ] && command -v ip >/dev/null 2>&1; then
  gw=$(ip -4 -o addr show docker0 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')
fi
[ -n "$gw" ] || exit 0
# Only an address of this machine can be listened on.
python3 -c 'import socket, sys
s = socket.socket()
try:
    s.bind((sys.argv[1], 0))
except OSError:
    sys.exit(1)' "$gw" 2>/dev/null && echo "$gw"
exit 0
