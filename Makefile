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

.PHONY: run test lint bench build clean deploy deploy-guided invoke local-infra

run:
	AUTH_MODE=$${AUTH_MODE:-$(LOCAL_AUTH_MODE)} AUTH_CREDENTIAL=$${AUTH_CREDENTIAL:-$(LOCAL_AUTH_CREDENTIAL)} \
	STATE_FILE=$${STATE_FILE:-$(LOCAL_STATE_FILE)} PORT=$(PORT) \
	$(GO) run ./functions/localserver

test: lint
	infra/with-moto.sh $(GO) test -count=1 ./...

lint:
	@out=$$(gofmt -l functions); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench:
	infra/with-moto.sh $(GO) test -run '^$$' -bench . -benchmem ./...

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
