#!/usr/bin/env bash
# make loadtest: starts make run's server binary on a free loopback port with a
# fresh state file (embedded bbolt store, durable), sends it a bounded load with
# cmd/loadgen, prints the figures, and stops it.
#   infra/loadtest.sh SERVER_BINARY LOADGEN_BINARY [loadgen flags: -n N -c C]
set -euo pipefail

server=$1 loadgen=$2
shift 2
dir=$(mktemp -d -t loadtest.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
AUTH_MODE=basic AUTH_CREDENTIAL=popbill:local-secret STATE_FILE="$dir/state.db" PORT="$port" \
  "$server" >"$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT

for _ in $(seq 1 100); do
  if curl -s -o /dev/null "http://localhost:$port/items/000000000000000000"; then break; fi
  if ! kill -0 $pid 2>/dev/null; then echo "the local server did not start:" >&2; cat "$dir/server.log" >&2; exit 1; fi
  sleep 0.1
done

echo "local server (pid $pid) on port $port, state file $dir/state.db; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$loadgen" -url "http://localhost:$port/pbconnect" -events events "$@"
# the server's CPU (user+sys) over the whole run, from /proc: what a delivery costs it
ticks=$(awk '{print $14+$15}' /proc/$pid/stat) hz=$(getconf CLK_TCK)
echo "server CPU: $(awk -v t="$ticks" -v hz="$hz" 'BEGIN {printf "%.2f", t/hz}') s; loadgen's own CPU shares the same cores"
echo "state file after the run: $(du -h "$dir/state.db" | cut -f1); server log lines: $(wc -l <"$dir/server.log")"
