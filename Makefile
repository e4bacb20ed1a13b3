# POPBiLL e-Cashbill webhook receiver.
#   make run    the receiver on http://localhost:9854/pbconnect, embedded store, no AWS account
#   make test   every test: unit, moto_server integration, Lambda emulator, template checks
SHELL := /bin/bash
GO ?= go
export GOFLAGS ?= -buildvcs=false

# The local receiver's settings; the sample events in events/ carry this credential.
PORT ?= 9854
LOCAL_AUTH_MODE ?= basic
LOCAL_AUTH_CREDENTIAL ?= popbill:local-secret
LOCAL_STATE_FILE ?= .local/state.db

# Lambda binaries: linux/arm64, static, no RPC shim, reproducible.
LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
BUILD_DIR ?= .build

.PHONY: run test test-tools lint bench fuzz build clean deploy deploy-guided invoke local-infra

run:
	AUTH_MODE=$${AUTH_MODE:-$(LOCAL_AUTH_MODE)} AUTH_CREDENTIAL=$${AUTH_CREDENTIAL:-$(LOCAL_AUTH_CREDENTIAL)} \
	STATE_FILE=$${STATE_FILE:-$(LOCAL_STATE_FILE)} PORT=$(PORT) \
	$(GO) run ./functions/localserver

test: lint test-tools
	infra/with-moto.sh $(GO) test -count=1 ./...

# The Python tools the tests run: moto_server (infra/with-moto.sh installs it) and cfn-lint.
test-tools:
	@command -v cfn-lint >/dev/null 2>&1 || { echo "cfn-lint is missing; installing it with pip" >&2; python3 -m pip install --quiet 'cfn-lint>=1.20,<2'; }

lint:
	@out=$$(gofmt -l functions); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	infra/with-moto.sh $(GO) test -run '^$$' -bench . -benchmem ./...

# make fuzz: every fuzz target in the repository, one after another, each for
# FUZZTIME. make test runs their seeds only. A failing input is written under
# the package's testdata/fuzz/ and from then on runs as a seed: commit it with the fix.
FUZZTIME ?= 30s
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' functions | xargs -n1 dirname | sort -u); do \
	  for target in $$(grep -h -o '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | cut -d' ' -f2); do \
	    echo "== ./$$dir $$target for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) ./$$dir; \
	  done; \
	done

# SAM calls build-<LogicalId> with ARTIFACTS_DIR for every function (BuildMethod: makefile).
build-WebhookFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/webhook

build-SlackNotifierFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/slack-notifier

build:
	$(MAKE) build-WebhookFunction ARTIFACTS_DIR=$(BUILD_DIR)/WebhookFunction
	$(MAKE) build-SlackNotifierFunction ARTIFACTS_DIR=$(BUILD_DIR)/SlackNotifierFunction
	@ls -l $(BUILD_DIR)/*/bootstrap

clean:
	rm -rf $(BUILD_DIR) .aws-sam

# Deploy with the SAM CLI. CONFIG_ENV picks the samconfig.toml table: default (dev) or prod.
CONFIG_ENV ?= default
SAM ?= sam
SAM_MISSING := the AWS SAM CLI is missing: install it (pip install aws-sam-cli, brew install aws-sam-cli, or the installer from the AWS SAM developer guide) and run make again

deploy:
	@command -v $(SAM) >/dev/null 2>&1 || { echo "$(SAM_MISSING)" >&2; exit 1; }
	$(SAM) build --config-env $(CONFIG_ENV)
	$(SAM) deploy --config-env $(CONFIG_ENV)

deploy-guided:
	@command -v $(SAM) >/dev/null 2>&1 || { echo "$(SAM_MISSING)" >&2; exit 1; }
	$(SAM) build --config-env $(CONFIG_ENV)
	$(SAM) deploy --guided --config-env $(CONFIG_ENV)

# make invoke EVENT=events/01-issue-300.json: the webhook bootstrap under the Lambda
# emulator, against moto_server with the template's table and topic (make local-infra).
# INVOKE_WITH=sam runs sam local invoke in Docker instead (against AWS: see infra/invoke.sh).
invoke:
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=events/01-issue-300.json" >&2; exit 2; }
	AUTH_MODE=$${AUTH_MODE:-$(LOCAL_AUTH_MODE)} AUTH_CREDENTIAL=$${AUTH_CREDENTIAL:-$(LOCAL_AUTH_CREDENTIAL)} \
	GO=$(GO) infra/invoke.sh $(EVENT)

local-infra:
	GO=$(GO) infra/local-infra.sh
