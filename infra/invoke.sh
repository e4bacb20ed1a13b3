#!/usr/bin/env bash
# Runs a Lambda function of template.yaml once per event file, offline, against a
# local moto_server holding the template's table and topic (infra/local-infra.sh),
# and prints the function's log and its response.
#
#   infra/invoke.sh EVENT            (make invoke EVENT=events/01-issue-300.json)
#   infra/invoke.sh --all            (make invoke-all): every event in events/expected.json,
#                                    in order, on a fresh table; exits 1 unless each
#                                    gets its expected status and outcome
#
# FUNCTION     WebhookFunction (default) or SlackNotifierFunction.
# INVOKE_WITH  rie (default): the bootstrap built for this machine by the Makefile's
#              build-<LogicalId> target, under the AWS Lambda Runtime Interface Emulator.
#              No Docker. sam: `sam build` and `sam local invoke` in Docker, the container
#              on the host network so it reaches moto on 127.0.0.1 (SAM CLI >= 1.100 and a
#              running Docker engine).
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
  echo "usage: make invoke EVENT=events/<file>.json [FUNCTION=SlackNotifierFunction] [INVOKE_WITH=sam]" >&2
  echo "       make invoke-all [INVOKE_WITH=sam]" >&2
  echo "the events are:" >&2
  ls events/*.json | grep -v -e env.json -e expected.json >&2
  exit 2
}
all=false
if [ "${1:-}" = --all ]; then
  all=true
  [ "$function" = WebhookFunction ] || { echo "--all runs the webhook's events only" >&2; exit 2; }
elif [ -z "${1:-}" ] || [ ! -f "$1" ]; then
  usage
fi
case "$with" in
rie) ;;
sam)
  command -v sam >/dev/null 2>&1 || { echo "INVOKE_WITH=sam needs the AWS SAM CLI (1.100 or later): https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html" >&2; exit 1; }
  docker info >/dev/null 2>&1 || { echo "INVOKE_WITH=sam needs a running Docker engine: sam local invoke runs the function in a container" >&2; exit 1; }
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
eval "$(LOCAL_INFRA_ENV="${LOCAL_INFRA_ENV:-/dev/null}" infra/local-infra.sh)"
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

if [ "$function" = SlackNotifierFunction ] && [ -z "${SLACK_WEBHOOK_URL:-}" ]; then
  port="${LOCAL_SLACK_PORT:-$(free_port)}"
  python3 -u infra/slack_echo.py "$port" >"$tmp/slack.log" 2>&1 &
  pids+=($!)
  export SLACK_WEBHOOK_URL="http://127.0.0.1:$port/services/local"
  wait_http "http://127.0.0.1:$port/" || { echo "the Slack stand-in did not start:" >&2; cat "$tmp/slack.log" >&2; exit 1; }
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
  sam build "$function" ${params[@]+"${params[@]}"}
  sam_args=(--env-vars "$tmp/sam-env.json" --docker-network host --region "$AWS_REGION" ${params[@]+"${params[@]}"})
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
