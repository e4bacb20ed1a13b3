#!/usr/bin/env bash
# Creates template.yaml's DynamoDB tables, SNS topic and the webhook's log group (the
# delivery archive) in moto_server, read from the template itself (go run
# ./cmd/localinfra), so local resources never drift from what deploys. Uses the emulator at AWS_ENDPOINT_URL when that is set; otherwise
# uses, or starts, this project's moto_server on port ${LOCAL_MOTO_PORT:-5055}.
#
# Where moto listens: 127.0.0.1, for the host's tools (make run-moto, make invoke, the
# cashbill tool), and, when a Docker engine is here, the Docker bridge's gateway
# address (infra/docker-gateway.sh), which a function's container reaches as
# host.docker.internal (sam local invoke and start-api, the container test). Nothing
# beyond this machine reaches either. LOCAL_MOTO_HOST=ADDR listens on ADDR only
# (0.0.0.0: every address, reachable from the network; only when asked).
#
# moto runs in a session of its own, in the background, and keeps its state (in
# memory) until `infra/local-infra.sh --stop` (make local-infra-stop): a Ctrl-C of
# make run-moto leaves it running. Its pid is in .local/moto.pid, its log in
# .local/moto.log (LOCAL_INFRA_DIR names another folder than .local).
#
# Something already listening on the port that this script did not start (another
# project's moto_server, say) is not used: the script says so and exits 1, so that
# this project's tables are never written into someone else's emulator unasked.
# Set LOCAL_MOTO_PORT to another port, or AWS_ENDPOINT_URL to use it on purpose.
#
# Prints KEY='value' lines to eval, and keeps them in .local/infra.env, or the file
# LOCAL_INFRA_ENV names (make run-moto loads it): AWS_ENDPOINT_URL AWS_REGION
# AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY, then STATE_TABLE, ALERT_TOPIC_ARN and the
# other resources. The keys are moto's dummy ones, so a machine with no AWS
# configuration works, and a real profile never reaches the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${LOCAL_INFRA_DIR:-.local}"
mkdir -p "$dir"
port="${LOCAL_MOTO_PORT:-5055}"
pidfile="$dir/moto.pid"

# alive: the pid file names a live moto_server that this script started (on port
# $ran_port); ours: on this port.
alive() {
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile") ran_port=$(cat "$dir/moto.port" 2>/dev/null || echo 5055)
  kill -0 "$pid" 2>/dev/null && ps -p "$pid" -o args= 2>/dev/null | grep -q moto_serial.py
}
ours() { alive && [ "$ran_port" = "$port" ]; }
listening() { python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)' "${host:-127.0.0.1}" "$port" 2>/dev/null; }

if [ "${1:-}" = --stop ]; then
  if alive; then
    port=$ran_port
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "moto_server (pid $pid) did not stop within 5 s; kill -9 $pid ends it" >&2; exit 1; fi
    rm -f "$pidfile" "$dir/moto.hosts" "$dir/moto.port"
    echo "stopped moto_server (pid $pid, port $port); its tables and messages are gone"
  elif [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    rm -f "$pidfile" "$dir/moto.hosts" "$dir/moto.port"
    echo "moto_server (pid $pid) had already stopped"
  elif listening; then
    echo "no moto_server started by make local-infra; 127.0.0.1:$port is another process's, left alone"
  else
    echo "no moto_server started by make local-infra"
  fi
  exit 0
fi

# Never let a real profile or key reach the emulator calls.
export AWS_REGION="${AWS_REGION:-ap-northeast-2}"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_SESSION_TOKEN AWS_PROFILE

if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  gateway=$(infra/docker-gateway.sh)
  if [ -n "${LOCAL_MOTO_HOST:-}" ]; then
    hosts=("$LOCAL_MOTO_HOST")
  else
    hosts=(127.0.0.1 ${gateway:+"$gateway"})
  fi
  case "${hosts[0]}" in 0.0.0.0 | 127.0.0.1) host=127.0.0.1 ;; *) host="${hosts[0]}" ;; esac
  export AWS_ENDPOINT_URL="http://$host:$port"
  if ours; then
    echo "using moto_server on $AWS_ENDPOINT_URL (pid $pid, started earlier by make local-infra; make local-infra-stop ends it)" >&2
    if [ -n "$gateway" ] && [ -z "${LOCAL_MOTO_HOST:-}" ] && ! grep -qx "$gateway" "$dir/moto.hosts" 2>/dev/null; then
      echo "that moto_server does not listen on the Docker bridge ($gateway), so sam local cannot reach it: make local-infra-stop, then run this again" >&2
    fi
  elif alive; then
    echo "make local-infra's moto_server runs on port $ran_port (pid $pid), not $port: make local-infra-stop first, or set LOCAL_MOTO_PORT=$ran_port" >&2
    exit 1
  elif listening; then
    echo "127.0.0.1:$port is taken by a process make local-infra did not start (another project's moto_server?); it is left alone: set LOCAL_MOTO_PORT to a free port, or AWS_ENDPOINT_URL=http://127.0.0.1:$port to use it on purpose" >&2
    exit 1
  else
    if ! python3 -c "import moto.server, flask" >/dev/null 2>&1; then
      echo "moto_server is missing: install it with pip install 'moto[server]' (or set AWS_ENDPOINT_URL to another emulator)" >&2
      exit 1
    fi
    also=()
    for h in "${hosts[@]:1}"; do also+=(--also-host "$h"); done
    # moto_server with requests serialised, as in make test (infra/moto_serial.py says why),
    # in a session of its own so that a Ctrl-C in this terminal leaves it running.
    nohup python3 infra/moto_serial.py --own-session ${also[@]+"${also[@]}"} -H "${hosts[0]}" -p "$port" >"$dir/moto.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    printf '%s\n' "${hosts[@]}" >"$dir/moto.hosts"
    echo "$port" >"$dir/moto.port"
    for _ in $(seq 1 100); do
      if curl -fsS --max-time 2 -o /dev/null "$AWS_ENDPOINT_URL/moto-api/data.json" 2>/dev/null; then break; fi
      if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        rm -f "$pidfile" "$dir/moto.hosts" "$dir/moto.port"
        echo "moto_server did not start (port taken? set LOCAL_MOTO_PORT):" >&2
        cat "$dir/moto.log" >&2
        exit 1
      fi
      sleep 0.1
    done
    echo "started moto_server on $AWS_ENDPOINT_URL (listening on ${hosts[*]}; pid $(cat "$pidfile"), log $dir/moto.log)" >&2
  fi
fi

resources=$("${GO:-go}" run ./cmd/localinfra -template template.yaml -stack "${LOCAL_STACK:-popbill-webhook-local}")
{
  printf "AWS_ENDPOINT_URL='%s'\nAWS_REGION='%s'\n" "$AWS_ENDPOINT_URL" "$AWS_REGION"
  printf "AWS_ACCESS_KEY_ID='test'\nAWS_SECRET_ACCESS_KEY='test'\n"
  echo "$resources"
} | tee "${LOCAL_INFRA_ENV:-$dir/infra.env}"
