#!/usr/bin/env bash
# Runs a command with moto_server listening on a free loopback port, then stops it.
# The command sees MOTO_ENDPOINT (and the SDK's own AWS_* variables) pointing at it.
#   infra/with-moto.sh go test ./...
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if ! python3 -c 'import moto.server, flask' >/dev/null 2>&1; then
  echo "moto_server is missing; installing it with pip (moto[server])" >&2
  python3 -m pip install --quiet 'moto[server]>=5.1,<6' >&2 || {
    echo "could not install moto_server: install it with 'pip install \"moto[server]\"' and run again" >&2
    exit 1
  }
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp -t moto.XXXXXX.log)
# moto_server with requests serialised: see infra/moto_serial.py for why.
python3 "$here/moto_serial.py" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; wait $moto_pid 2>/dev/null || true; rm -f "$log"' EXIT

for _ in $(seq 1 100); do
  if python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/moto-api/data.json', timeout=1)" 2>/dev/null; then break; fi
  if ! kill -0 $moto_pid 2>/dev/null; then echo "moto_server did not start:" >&2; cat "$log" >&2; exit 1; fi
  sleep 0.1
done

export MOTO_ENDPOINT="http://127.0.0.1:$port"
export AWS_ENDPOINT_URL="$MOTO_ENDPOINT"
export AWS_REGION="${AWS_REGION:-ap-northeast-2}"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_SESSION_TOKEN=
echo "moto_server on $MOTO_ENDPOINT" >&2
"$@"
