#!/usr/bin/env bash
# Runs the webhook function once with one event file and prints its log and response.
#   infra/invoke.sh events/01-issue-300.json      (make invoke EVENT=... calls this)
#
# Default: the bootstrap built for this machine, under the Lambda Runtime Interface
# Emulator, against moto_server holding template.yaml's table and topic
# (infra/local-infra.sh), with AUTH_MODE/AUTH_CREDENTIAL from the environment (the
# Makefile passes basic, popbill:local-secret: the credential the sample events carry).
# Optional settings (ALLOWED_CORPNUMS, ALLOWED_SOURCE_IPS, CHECK_CORPNUM_CHECKSUM) pass
# through. State persists in moto between runs, so 01, 02, 03 ... tell a story.
#
# INVOKE_WITH=sam: `sam local invoke` in Docker with events/env.json instead. SAM gives a
# function only the variables its template declares, so it cannot be pointed at moto:
# that run uses the AWS account of your credentials, and env.json must name that
# account's table, topic and parameter (docs/deploy.md, "Try it locally").
set -euo pipefail
cd "$(dirname "$0")/.."

event="${1:-}"
if [ -z "$event" ] || [ ! -f "$event" ]; then
  echo "usage: make invoke EVENT=events/<file>.json; the events are:" >&2
  ls events/*.json >&2
  exit 2
fi

if [ "${INVOKE_WITH:-rie}" = sam ]; then
  if ! command -v sam >/dev/null 2>&1; then
    echo "INVOKE_WITH=sam needs the AWS SAM CLI: pip install aws-sam-cli (or brew install aws-sam-cli)" >&2
    exit 1
  fi
  if ! docker info >/dev/null 2>&1; then
    echo "INVOKE_WITH=sam needs a running Docker engine for sam local invoke" >&2
    exit 1
  fi
  sam build WebhookFunction
  exec sam local invoke WebhookFunction --event "$event" --env-vars events/env.json
fi

go="${GO:-go}"
eval "$(infra/local-infra.sh)"

bin=.build/local
mkdir -p "$bin"
CGO_ENABLED=0 "$go" build -tags lambda.norpc -trimpath -o "$bin/bootstrap" ./functions/webhook
"$go" build -o "$bin/aws-lambda-rie" github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rie_addr="127.0.0.1:$(free_port)"
api_addr="127.0.0.1:$(free_port)"
log=$(mktemp -t invoke-log.XXXXXX)
response=$(mktemp -t invoke-response.XXXXXX)

# Exactly the function's environment: nothing else from this shell leaks in.
env -i PATH="$PATH" HOME="$HOME" \
  AWS_ENDPOINT_URL="$AWS_ENDPOINT_URL" AWS_REGION="$AWS_REGION" \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  AWS_LAMBDA_LOG_FORMAT=JSON AWS_LAMBDA_FUNCTION_TIMEOUT=10 \
  STATE_TABLE="$STATE_TABLE" ALERT_TOPIC_ARN="$ALERT_TOPIC_ARN" \
  AUTH_MODE="${AUTH_MODE:-}" AUTH_CREDENTIAL="${AUTH_CREDENTIAL:-}" \
  ALLOWED_CORPNUMS="${ALLOWED_CORPNUMS:-}" ALLOWED_SOURCE_IPS="${ALLOWED_SOURCE_IPS:-}" \
  CHECK_CORPNUM_CHECKSUM="${CHECK_CORPNUM_CHECKSUM:-}" \
  "$bin/aws-lambda-rie" --runtime-interface-emulator-address "$rie_addr" --runtime-api-address "$api_addr" \
  "$bin/bootstrap" >"$log" 2>&1 &
rie_pid=$!
trap 'kill -TERM "$rie_pid" 2>/dev/null || true; wait "$rie_pid" 2>/dev/null || true; rm -f "$log" "$response"' EXIT

for _ in $(seq 1 100); do
  if curl -s -o /dev/null "http://$rie_addr/" 2>/dev/null; then break; fi
  sleep 0.05
done
curl -sS -X POST --data-binary @"$event" -o "$response" \
  "http://$rie_addr/2015-03-31/functions/function/invocations"
sleep 0.2 # let the function's last log line through

echo "== function log ($event)"
grep '^{' "$log" || cat "$log"
echo "== response"
python3 - "$response" <<'PY'
import json, sys
raw = open(sys.argv[1]).read()
try:
    r = json.loads(raw)
except ValueError:
    print(raw)
    sys.exit(0)
if isinstance(r, dict) and "statusCode" in r:
    print("HTTP %s  %s" % (r["statusCode"], r.get("body", "")))
else:
    print(json.dumps(r, indent=2, ensure_ascii=False))
PY
