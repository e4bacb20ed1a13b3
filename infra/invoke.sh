#!/usr/bin/env bash
# Runs a Lambda function of template.yaml once per event file, offline, against a
# local moto_server holding the template's table and topic (infra/local-infra.sh),
# and prints the function's log and its response.
#
#   infra/invoke.sh EVENT            (make invoke EVENT=events/01-issue-300.json)
#   infra/invoke.sh --all            (make invoke-all): every event in events/expected.json,
#                                    in order, on a fresh table; exits 1 unless each
#                                    gets its expected status and outcome
#   infra/invoke.sh --start-api      (make start-api): `sam local start-api` on
#                                    127.0.0.1:START_API_PORT (3000), POST /pbconnect,
#                                    against the same moto, until Ctrl-C
#
# FUNCTION     WebhookFunction (default), SlackNotifierFunction, SweeperFunction or EventForwarderFunction.
# INVOKE_WITH  rie (default): the bootstrap built for this machine by the Makefile's
#              build-<LogicalId> target, under the AWS Lambda Runtime Interface Emulator.
#              No Docker. sam: `sam build` and `sam local invoke` in Docker (SAM CLI >= 1.100
#              and a running Docker engine). The container is on Docker's default bridge
#              and reaches moto as host.docker.internal (--add-host
#              host.docker.internal:host-gateway), where make local-infra's moto listens too.
#
# Both take the function's variables from events/env.json through infra/local_env.py:
# the moto endpoint, table and topic found here, AUTH_MODE/AUTH_CREDENTIAL from the
# Makefile (basic, popbill:local-secret: what the sample events carry), and any other
# declared variable set in this shell (ALLOWED_CORPNUMS=... make invoke ...).
# The Slack notifier posts to SLACK_WEBHOOK_URL when it is set; otherwise to
# infra/slack_echo.py, which prints the message it would have posted.
set -euo pipefail
cd "$(dirname "$0")/.."

function="${FUNCTION:-WebhookFunction}"
with="${INVOKE_WITH:-rie}"
go="${GO:-go}"
usage() {
  [ -z "${1:-}" ] || { echo "${1}: no such file; the sample events are in events/ (events/README.md lists them)" >&2; exit 2; }
  echo "usage: make invoke EVENT=events/<file>.json [FUNCTION=WebhookFunction|SweeperFunction|SlackNotifierFunction|EventForwarderFunction] [INVOKE_WITH=sam]" >&2
  echo "       make invoke-all [INVOKE_WITH=sam]" >&2
  exit 2
}
all=false
start_api=false
if [ "${1:-}" = --all ]; then
  all=true
  [ "$function" = WebhookFunction ] || { echo "--all runs the webhook's events only" >&2; exit 2; }
elif [ "${1:-}" = --start-api ]; then
  start_api=true
  with=sam
elif [ -z "${1:-}" ] || [ ! -f "$1" ]; then
  usage "${1:-}"
fi
case "$with" in
rie) ;;
sam)
  $start_api && need="make start-api needs" || need="INVOKE_WITH=sam needs"
  command -v sam >/dev/null 2>&1 || { echo "$need the AWS SAM CLI (1.100 or later): https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html" >&2; exit 1; }
  docker info >/dev/null 2>&1 || { echo "$need a running Docker engine: sam local invoke runs the function in a container" >&2; exit 1; }
  ;;
*) echo "INVOKE_WITH is rie or sam, not $with" >&2; exit 2 ;;
esac

# Nothing here may reach a real AWS account: moto accepts any key.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_SESSION_TOKEN AWS_PROFILE
if $all; then
  # A table and topic of their own, so earlier runs' state does not change the outcomes.
  export LOCAL_STACK="popbill-webhook-check-$(date +%s)-$$"
fi
set -a
# (eval "$(...)" would hide local-infra.sh's failure: it has said why; stop here.)
infra_env=$(LOCAL_INFRA_ENV="${LOCAL_INFRA_ENV:-/dev/null}" infra/local-infra.sh) || exit 1
eval "$infra_env"
set +a

tmp=$(mktemp -d -t invoke.XXXXXX)
pids=()
cleanup() {
  for p in ${pids[@]+"${pids[@]}"}; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# Where the function reaches this machine: 127.0.0.1 under the emulator; in SAM's
# container, host.docker.internal, which is the Docker bridge's gateway (or, with
# Docker Desktop, which has none here, the host's loopback).
reach=127.0.0.1 listen=127.0.0.1
if [ "$with" = sam ]; then
  reach=host.docker.internal
  gateway=$(infra/docker-gateway.sh)
  listen="${gateway:-127.0.0.1}"
  moto_port="${AWS_ENDPOINT_URL##*:}"
  moto_port="${moto_port%%/*}"
  case "$AWS_ENDPOINT_URL" in
  http://127.0.0.1:* | http://localhost:*)
    if [ -n "$gateway" ] && ! curl -fsS --max-time 2 -o /dev/null "http://$gateway:$moto_port/moto-api/data.json" 2>/dev/null; then
      echo "the emulator on $AWS_ENDPOINT_URL does not listen on the Docker bridge ($gateway), so the function's container cannot reach it: use make local-infra's moto, which does (started before Docker was installed? make local-infra-stop, then run this again)" >&2
      exit 1
    fi
    export AWS_ENDPOINT_URL="http://host.docker.internal:$moto_port"
    ;;
  esac
fi
if [ "$function" = SlackNotifierFunction ] && [ -z "${SLACK_WEBHOOK_URL:-}" ]; then
  port="${LOCAL_SLACK_PORT:-$(free_port)}"
  python3 -u infra/slack_echo.py "$port" "$listen" >"$tmp/slack.log" 2>&1 &
  pids+=($!)
  export SLACK_WEBHOOK_URL="http://$reach:$port/services/local"
  wait_http "http://$listen:$port/" || { echo "the Slack stand-in did not start:" >&2; cat "$tmp/slack.log" >&2; exit 1; }
fi
python3 infra/local_env.py --json "$tmp/sam-env.json"

# start_runner, then invoke EVENT > response, with the function's log in $tmp/log.
if [ "$with" = rie ]; then
  bin=.build/local
  make --no-print-directory -s "build-$function" ARTIFACTS_DIR="$bin/$function" LAMBDA_GOARCH="$("$go" env GOARCH)" GO="$go"
  "$go" build -o "$bin/aws-lambda-rie" github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
  fenv=()
  while IFS= read -r -d '' kv; do fenv+=("$kv"); done < <(python3 infra/local_env.py --function "$function")
  rie_addr="127.0.0.1:$(free_port)"
  # Exactly the function's environment, as Lambda gives it: nothing else from this shell.
  env -i PATH="$PATH" HOME="$HOME" AWS_REGION="$AWS_REGION" \
    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
    AWS_LAMBDA_LOG_FORMAT=JSON AWS_LAMBDA_FUNCTION_TIMEOUT=10 ${fenv[@]+"${fenv[@]}"} \
    "$bin/aws-lambda-rie" --runtime-interface-emulator-address "$rie_addr" \
    --runtime-api-address "127.0.0.1:$(free_port)" "$bin/$function/bootstrap" >>"$tmp/log" 2>&1 &
  pids+=($!)
  wait_http "http://$rie_addr/" || { echo "the emulator did not start:" >&2; cat "$tmp/log" >&2; exit 1; }
  invoke() {
    : >"$tmp/log"
    curl -sS -X POST --data-binary @"$1" "http://$rie_addr/2015-03-31/functions/function/invocations"
    sleep 0.2 # let the function's last log line through
  }
else
  params=()
  if [ "$function" = SlackNotifierFunction ]; then
    # The function exists only when SlackWebhookParam is set; the env-vars file blanks
    # SLACK_WEBHOOK_PARAM again, so the notifier takes SLACK_WEBHOOK_URL and reads no SSM.
    params=(--parameter-overrides SlackWebhookParam=/popbill-webhook/local/slack-webhook-url)
  fi
  # ${a[@]+"${a[@]}"}: an empty array under set -u, in macOS's bash 3.2 too.
  sam_args=(--env-vars "$tmp/sam-env.json" --add-host host.docker.internal:host-gateway --region "$AWS_REGION" ${params[@]+"${params[@]}"})
  if $start_api; then
    sam build
    echo "sam local start-api on http://127.0.0.1:${START_API_PORT:-3000}/pbconnect (Ctrl-C stops it; moto keeps running)" >&2
    sam local start-api --port "${START_API_PORT:-3000}" "${sam_args[@]}" || true
    exit 0
  fi
  sam build "$function" ${params[@]+"${params[@]}"}
  invoke() { sam local invoke "$function" --event "$1" "${sam_args[@]}" 2>"$tmp/log"; }
fi

if ! $all; then
  invoke "$1" >"$tmp/response"
  echo "== function log ($1, $with)"
  grep -h '^{' "$tmp/log" || cat "$tmp/log"
  [ -s "$tmp/slack.log" ] && cat "$tmp/slack.log"
  echo "== response"
  python3 infra/lambda_result.py show "$tmp/response"
  exit 0
fi

failed=0
while read -r event; do
  invoke "events/$event" >"$tmp/response"
  python3 infra/lambda_result.py check "events/$event" "$tmp/response" "$tmp/log" || failed=1
done < <(python3 -c 'import json; print("\n".join(json.load(open("events/expected.json"))))')
exit $failed
