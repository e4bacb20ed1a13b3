#!/usr/bin/env bash
# Creates template.yaml's DynamoDB table and SNS topic in moto_server, read from the
# template itself (go run ./cmd/localinfra), so local resources never drift from
# what deploys. Uses the emulator at AWS_ENDPOINT_URL when that is set; otherwise
# starts moto_server on 127.0.0.1:${LOCAL_MOTO_PORT:-5055} in the background and leaves
# it running for the next `make invoke` (state is in memory; to start over:
# kill "$(cat .local/moto.pid)").
# Prints KEY='value' lines to eval, and keeps them in .local/infra.env, or the file
# LOCAL_INFRA_ENV names (make run-moto loads it): AWS_ENDPOINT_URL AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
# ALERT_TOPIC_ARN STATE_TABLE. The keys are moto's dummy ones, so a machine with no
# AWS configuration works, and a real profile never reaches the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local

# Never let a real profile or key reach the emulator calls.
export AWS_REGION="${AWS_REGION:-ap-northeast-2}"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_SESSION_TOKEN AWS_PROFILE

if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  export AWS_ENDPOINT_URL="http://127.0.0.1:${LOCAL_MOTO_PORT:-5055}"
  if ! curl -fsS -o /dev/null "$AWS_ENDPOINT_URL/moto-api/data.json" 2>/dev/null; then
    if ! python3 -c "import moto.server, flask" >/dev/null 2>&1; then
      echo "moto_server is missing: install it with pip install 'moto[server]' (or set AWS_ENDPOINT_URL to another emulator)" >&2
      exit 1
    fi
    # moto_server with requests serialised, as in make test (infra/moto_serial.py says why).
    nohup python3 infra/moto_serial.py -H 127.0.0.1 -p "${LOCAL_MOTO_PORT:-5055}" >.local/moto.log 2>&1 &
    echo $! >.local/moto.pid
    for _ in $(seq 1 100); do
      if curl -fsS -o /dev/null "$AWS_ENDPOINT_URL/moto-api/data.json" 2>/dev/null; then break; fi
      if ! kill -0 "$(cat .local/moto.pid)" 2>/dev/null; then
        echo "moto_server did not start (port taken? set LOCAL_MOTO_PORT):" >&2
        cat .local/moto.log >&2
        exit 1
      fi
      sleep 0.1
    done
    echo "started moto_server on $AWS_ENDPOINT_URL (pid $(cat .local/moto.pid), log .local/moto.log)" >&2
  fi
fi

resources=$("${GO:-go}" run ./cmd/localinfra -template template.yaml -stack "${LOCAL_STACK:-popbill-webhook-local}")
{
  printf "AWS_ENDPOINT_URL='%s'\nAWS_REGION='%s'\n" "$AWS_ENDPOINT_URL" "$AWS_REGION"
  printf "AWS_ACCESS_KEY_ID='test'\nAWS_SECRET_ACCESS_KEY='test'\n"
  echo "$resources"
} | tee "${LOCAL_INFRA_ENV:-.local/infra.env}"
