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

# Lambda binaries: linux/arm64, static, no RPC shim, reproducible. The one place
# these flags live: sam build, make build, make invoke and the emulator tests all
# build through build-<LogicalId> (the last two with LAMBDA_GOARCH set to this
# machine's architecture, so the emulator can run the binary).
LAMBDA_GOARCH ?= arm64
LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
LAMBDA_BUILD = CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) $(GO) build $(LAMBDA_GOFLAGS)
BUILD_DIR ?= .build

# staticcheck, pinned; go run fetches and caches it on first use.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help run run-moto test test-container start-api test-tools lint bench bench-build bench-cpu bench-units bench-coldstart bench-profile bench-table loadtest fuzz stress build validate clean deploy deploy-guided invoke invoke-all local-infra local-infra-stop

# `make help` lists the targets that have a `## ` line above them.
## help: list these targets
help:
	@awk '/^## /{sub(/^## /,""); split($$0,a,": "); printf "  make %-16s %s\n", a[1], substr($$0, length(a[1])+3)}' $(MAKEFILE_LIST)

# make run on a busy port stops here, in one line, before compiling anything.
ifneq ($(filter run run-moto,$(MAKECMDGOALS)),)
ifeq ($(shell (exec 3<>/dev/tcp/127.0.0.1/$(PORT)) 2>/dev/null && echo busy),busy)
$(error port $(PORT) is already in use (another make run?): stop it, or choose another port, e.g. make run PORT=$(shell echo $$(($(PORT) + 1))))
endif
endif

## run: the receiver on http://localhost:9854/pbconnect, embedded store, no AWS account (Ctrl-C stops it)
# Built, then exec'd (not go run, which exits 1 on Ctrl-C), so that Ctrl-C
# ends make run without an error.
run:
	@test -x $(BUILD_DIR)/localserver || echo "make run: compiling the receiver; the first time Go downloads and compiles its modules (about 2 minutes on 2 cores), later seconds"
	@$(GO) build -o $(BUILD_DIR)/localserver ./cmd/localserver
	AUTH_MODE=$${AUTH_MODE:-$(LOCAL_AUTH_MODE)} AUTH_CREDENTIAL=$${AUTH_CREDENTIAL:-$(LOCAL_AUTH_CREDENTIAL)} \
	STATE_FILE=$${STATE_FILE:-$(LOCAL_STATE_FILE)} PORT=$(PORT) \
	exec $(BUILD_DIR)/localserver

## run-moto: make run on DynamoDB and SNS in a local moto_server (make local-infra), no AWS account
run-moto: local-infra
	set -a && . .local/infra.env && set +a && STORE=dynamodb ALERTS=sns $(MAKE) --no-print-directory run

## test: every test: unit, moto_server integration, Lambda emulator, the container test (when Docker can be had), template and SAM translator checks
# Tests that need moto_server, cfn-lint, the SAM translator or the Lambda
# emulator carry the integration build tag: plain `go test ./...` leaves them out.
# The container test (internal/systemtest/containertest) needs a Docker engine: infra/with-docker.sh
# uses the running one, or installs and starts one as root, or says in one line why the
# container test is skipped.
test: lint test-tools
	@echo "make test: every package's tests with moto_server, the Lambda emulator, the container test and the template checks (about 3 minutes on 2 cores once Go has built everything; the first time several minutes more, and a minute to install Docker where it can)"
	CONTAINER_TEST_OPTIONAL=1 infra/with-docker.sh infra/with-moto.sh $(GO) test -tags integration -count=1 ./...

## test-container: each function's bootstrap in a container on Docker's bridge, as sam local invoke runs it, every sample event checked (installs and starts dockerd as root when missing)
test-container:
	infra/with-docker.sh $(GO) test -tags integration -count=1 -v ./internal/systemtest/containertest/

# The Python tools the tests run: moto_server (infra/with-moto.sh installs it), cfn-lint
# and the SAM translator (samtranslator, which cfn-lint brings).
test-tools:
	@command -v cfn-lint >/dev/null 2>&1 || { echo "cfn-lint is missing; installing it with pip" >&2; python3 -m pip install --quiet 'cfn-lint>=1.20,<2'; }
	@python3 -c 'import samtranslator' 2>/dev/null || { echo "the SAM translator is missing; installing it with pip" >&2; python3 -m pip install --quiet 'aws-sam-translator>=1.90,<2'; }

## validate: what sam validate does, without the SAM CLI: cfn-lint, then the SAM translator per samconfig.toml environment
validate: test-tools
	cfn-lint template.yaml
	python3 infra/sam_validate.py $(VALIDATE_CASES)

# The translator test adds these cases: both optional features on; a credential rotation under way.
VALIDATE_CASES := --case 'slack-and-email:SlackWebhookParam=/popbill-webhook/slack-webhook-url AlertEmail=tax@example.co.kr' \
	--case 'rotation:AuthCredentialNextParam=/popbill-webhook/credential-next'

## lint: gofmt, go vet and staticcheck (pinned), with and without the integration tag
lint:
	@echo "make lint: gofmt, go vet and staticcheck, with and without the integration tag (the first time a few minutes, while Go fetches and builds staticcheck; later under a minute)"
	@out=$$(gofmt -l functions cmd internal); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags integration ./...

## bench: every benchmark, then the performance figures beside their goals (docs/performance.md); CPU, cost and cold start when PERF_DIR holds the shared instruments
# PERF_DIR: the shared instruments (cpu_per_event.py, coldstart.py, keepalive/, peers/);
# when it is missing, the CPU, cost and cold-start rows print "not run". It may be
# read-only: what is built from it goes to .build/perf (peers/node is copied there for
# npm install, peers/go is built there with this module's go.mod).
# coldstart: the webhook answers the unauthenticated event it sends with no AWS call
# (its archive is the request line); its endpoint is a moto_server all the same, and
# AWS_CA_BUNDLE, which Lambda does not set, is unset (parsing a bundle adds ~6 ms to
# LoadDefaultConfig).
PERF_DIR ?= ../shared/perf
PERF_EVENTS ?= 800
PERF_OUT := $(BUILD_DIR)/perf
PERF_RUN = RIE=$(PERF_OUT)/aws-lambda-rie python3 infra/perf/tables.py $(PERF_DIR)/cpu_per_event.py
PERF_GO = hello=$(PERF_OUT)/hello/bootstrap gopeer=$(PERF_OUT)/gopeer/bootstrap webhook=$(PERF_OUT)/webhook/bootstrap
bench:
	@mkdir -p $(PERF_OUT)
	infra/with-moto.sh $(GO) test -tags integration -run '^$$' -bench . -benchmem ./... | tee $(PERF_OUT)/bench.txt
	$(MAKE) --no-print-directory build-WebhookFunction ARTIFACTS_DIR=$(PERF_OUT)/arm64
	@if [ -f $(PERF_DIR)/cpu_per_event.py ]; then $(MAKE) --no-print-directory bench-cpu bench-units bench-coldstart; \
	else echo "$(PERF_DIR) has no cpu_per_event.py: the CPU, cost and cold-start rows are not run"; \
	  rm -f $(PERF_OUT)/cpu.txt $(PERF_OUT)/cpu-nokeepalive.txt $(PERF_OUT)/units.json $(PERF_OUT)/coldstart.txt; fi
	$(MAKE) --no-print-directory loadtest | tee $(PERF_OUT)/loadtest.txt
	@$(MAKE) --no-print-directory bench-table

# The receivers the figures compare, built for this machine: the webhook, the
# hello-world floor and the hand-written Go peer with the same flags, the emulator,
# and the shared keep-alive proxy.
bench-build:
	@mkdir -p $(PERF_OUT)/gopeer
	$(MAKE) --no-print-directory build-WebhookFunction ARTIFACTS_DIR=$(PERF_OUT)/webhook LAMBDA_GOARCH=$$($(GO) env GOARCH)
	CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o $(PERF_OUT)/hello/bootstrap ./cmd/perfhello
	$(GO) build -o $(PERF_OUT)/aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie
	cd $(PERF_DIR)/keepalive && $(GO) build -o $(abspath $(PERF_OUT))/keepalive .
	cp $(PERF_DIR)/peers/go/main.go go.mod go.sum $(PERF_OUT)/gopeer/ && sed -i '1s|.*|module gopeer|' $(PERF_OUT)/gopeer/go.mod
	cd $(PERF_OUT)/gopeer && CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o bootstrap .

# CPU per delivery: through the keep-alive proxy (what AWS charges) with every peer,
# then the Go receivers again straight to moto (a TCP connect per call).
bench-cpu: bench-build
	@peers=""; \
	if [ -x $(PERF_DIR)/peers/python/bootstrap ]; then peers="$$peers python=$(PERF_DIR)/peers/python/bootstrap"; fi; \
	if [ -x $(PERF_DIR)/peers/node/bootstrap ] && command -v npm >/dev/null; then \
	  rm -rf $(PERF_OUT)/node && cp -r $(PERF_DIR)/peers/node $(PERF_OUT)/node && (cd $(PERF_OUT)/node && npm install --no-audit --no-fund --silent) && \
	  peers="$$peers node=$(PERF_OUT)/node/bootstrap"; fi; \
	set -ex; KEEPALIVE=$(PERF_OUT)/keepalive $(PERF_RUN) $(PERF_GO) $$peers --events $(PERF_EVENTS) | tee $(PERF_OUT)/cpu.txt
	$(PERF_RUN) $(PERF_GO) --events $(PERF_EVENTS) | tee $(PERF_OUT)/cpu-nokeepalive.txt

# Write and read units per delivery, per table and index, and what was published and
# logged, of the webhook and the Go peer on the CPU run's delivery sequence (infra/perf/units.py).
bench-units: bench-build
	UNITS_OUT=$(PERF_OUT)/units.json KEEPALIVE=$(PERF_OUT)/keepalive $(PERF_RUN) \
	  gopeer=$(PERF_OUT)/gopeer/bootstrap webhook=$(PERF_OUT)/webhook/bootstrap --events $(PERF_EVENTS) >/dev/null

# Cold start of the webhook and the Go peer against hello-world, 11 rounds of one run.
bench-coldstart: bench-build
	env -u AWS_CA_BUNDLE RIE=$(PERF_OUT)/aws-lambda-rie infra/with-moto.sh sh -c 'COLDSTART_ENV="{\"AWS_ENDPOINT_URL\":\"$$MOTO_ENDPOINT\"}" \
	  python3 infra/perf/coldpairs.py $(PERF_DIR)/coldstart.py $(PERF_OUT)/hello/bootstrap webhook=$(PERF_OUT)/webhook/bootstrap gopeer=$(PERF_OUT)/gopeer/bootstrap --runs 11' | tee $(PERF_OUT)/coldstart.txt

# Where the webhook's CPU goes: a CPU profile of its first 40 s under the emulator
# (2,000 deliveries through the keep-alive proxy), then pprof's top functions.
bench-profile: bench-build
	CGO_ENABLED=0 $(GO) build -tags lambda.norpc,perfprofile -o $(PERF_OUT)/profile/bootstrap ./functions/webhook
	RECEIVER_ENV='{"PROF_OUT":"$(abspath $(PERF_OUT))/webhook.prof"}' KEEPALIVE=$(PERF_OUT)/keepalive $(PERF_RUN) \
	  webhook=$(PERF_OUT)/profile/bootstrap --events 2000
	$(GO) tool pprof -top -cum -nodecount 40 $(PERF_OUT)/profile/bootstrap $(PERF_OUT)/webhook.prof

# The figures beside their goals, from what the parts above wrote.
bench-table:
	@echo; echo "== performance figures ($$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $$(cut -d' ' -f1-3 /proc/loadavg))"
	@python3 infra/perf/table.py --bench $(PERF_OUT)/bench.txt --cpu $(PERF_OUT)/cpu.txt --cpu-nokeepalive $(PERF_OUT)/cpu-nokeepalive.txt \
	  --units $(PERF_OUT)/units.json --coldstart $(PERF_OUT)/coldstart.txt --bootstrap $(PERF_OUT)/arm64/bootstrap \
	  --loadtest $(PERF_OUT)/loadtest.txt --prices infra/perf/prices.json --template template.yaml

## loadtest: make run's server (embedded store, fresh state file, free port) under LOAD_N deliveries from LOAD_C workers: deliveries/s, p50/p99/max
LOAD_N ?= 20000
LOAD_C ?= 64
loadtest:
	@mkdir -p $(BUILD_DIR)/loadtest
	$(GO) build -o $(BUILD_DIR)/loadtest/localserver ./cmd/localserver
	$(GO) build -o $(BUILD_DIR)/loadtest/loadgen ./cmd/loadgen
	infra/loadtest.sh $(BUILD_DIR)/loadtest/localserver $(BUILD_DIR)/loadtest/loadgen -n $(LOAD_N) -c $(LOAD_C)

## fuzz: every fuzz target for FUZZTIME (default 30s) each; make test runs their seeds only
# make fuzz: every fuzz target in the repository, one after another, each for
# FUZZTIME. make test runs their seeds only. A failing input is written under
# the package's testdata/fuzz/ and from then on runs as a seed: commit it with the fix.
FUZZTIME ?= 30s
fuzz:
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' functions cmd internal | xargs -n1 dirname | sort -u); do \
	  for target in $$(grep -h -o '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | cut -d' ' -f2); do \
	    echo "== ./$$dir $$target for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) ./$$dir; \
	  done; \
	done

## stress: the full storms (10,000 deliveries over 1,000 cashbills, random faults) on moto and on bbolt, with figures
# make test runs small ones (300 deliveries); STRESS=1 makes them full size.
stress:
	set -o pipefail; STRESS=1 infra/with-moto.sh $(GO) test -tags integration -count=1 -v -timeout 30m -run 'Storm' ./internal/systemtest/reliabilitytest/ \
	  | grep -v 'SDK .* WARN'

# SAM calls build-<LogicalId> with ARTIFACTS_DIR for every function (BuildMethod: makefile).
build-WebhookFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/webhook

build-SlackNotifierFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/slack-notifier

build-SweeperFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sweeper

build-EventForwarderFunction:
	$(LAMBDA_BUILD) -o $(ARTIFACTS_DIR)/bootstrap ./functions/event-forwarder

## build: the Lambda binaries for linux/arm64 into .build/ (what sam build makes)
build:
	$(MAKE) build-WebhookFunction ARTIFACTS_DIR=$(BUILD_DIR)/WebhookFunction
	$(MAKE) build-SlackNotifierFunction ARTIFACTS_DIR=$(BUILD_DIR)/SlackNotifierFunction
	$(MAKE) build-SweeperFunction ARTIFACTS_DIR=$(BUILD_DIR)/SweeperFunction
	$(MAKE) build-EventForwarderFunction ARTIFACTS_DIR=$(BUILD_DIR)/EventForwarderFunction
	@ls -l $(BUILD_DIR)/*/bootstrap

## clean: stop make local-infra's moto_server, then remove .build, .aws-sam and .local (the local store, moto's files, and the cashbill tool built there)
clean:
	@infra/local-infra.sh --stop
	rm -rf $(BUILD_DIR) .aws-sam .local

# Deploy with the SAM CLI. CONFIG_ENV picks the samconfig.toml table: default (dev) or prod.
CONFIG_ENV ?= default
SAM ?= sam
SAM_MISSING := the AWS SAM CLI is missing: install it (1.100 or later; the installer in the AWS SAM developer guide, brew install aws-sam-cli, or pip install aws-sam-cli) and run make again

## deploy: sam build and sam deploy with samconfig.toml's CONFIG_ENV (default: dev; CONFIG_ENV=prod)
deploy:
	@command -v $(SAM) >/dev/null 2>&1 || { echo "$(SAM_MISSING)" >&2; exit 1; }
	$(SAM) build --config-env $(CONFIG_ENV)
	$(SAM) deploy --config-env $(CONFIG_ENV)

## deploy-guided: the first deploy: sam deploy --guided asks for every parameter and saves the answers
deploy-guided:
	@command -v $(SAM) >/dev/null 2>&1 || { echo "$(SAM_MISSING)" >&2; exit 1; }
	$(SAM) build --config-env $(CONFIG_ENV)
	$(SAM) deploy --guided --config-env $(CONFIG_ENV)

# The functions of template.yaml, each built by its build-<LogicalId> target.
LAMBDA_FUNCTIONS := WebhookFunction SweeperFunction SlackNotifierFunction EventForwarderFunction

## invoke: EVENT=events/<file>.json [FUNCTION=SweeperFunction|SlackNotifierFunction|EventForwarderFunction] [INVOKE_WITH=sam]: run a function once, offline, on moto
invoke:
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=events/01-issue-300.json [FUNCTION=$$(echo $(LAMBDA_FUNCTIONS) | tr ' ' '|')] [INVOKE_WITH=sam]" >&2; exit 2; }
	@test -f "$(EVENT)" || { echo "make invoke: $(EVENT): no such file; the sample events are in events/ (events/README.md lists them)" >&2; exit 2; }
	@case " $(LAMBDA_FUNCTIONS) " in *" $${FUNCTION:-WebhookFunction} "*) ;; \
	  *) echo "make invoke: FUNCTION=$(FUNCTION) is not a function of template.yaml; use one of $(LAMBDA_FUNCTIONS)" >&2; exit 2;; esac
	@test -x .build/local/$${FUNCTION:-WebhookFunction}/bootstrap || echo "make invoke: building $${FUNCTION:-WebhookFunction} and the Lambda emulator for this machine; the first time Go downloads and compiles their modules (about 1-2 minutes), later seconds"
	AUTH_MODE=$${AUTH_MODE:-$(LOCAL_AUTH_MODE)} AUTH_CREDENTIAL=$${AUTH_CREDENTIAL:-$(LOCAL_AUTH_CREDENTIAL)} \
	GO=$(GO) infra/invoke.sh $(EVENT)

## start-api: sam local start-api on http://127.0.0.1:3000/pbconnect (START_API_PORT), on make local-infra's moto (SAM CLI and Docker)
START_API_PORT ?= 3000
start-api:
	AUTH_MODE=$${AUTH_MODE:-$(LOCAL_AUTH_MODE)} AUTH_CREDENTIAL=$${AUTH_CREDENTIAL:-$(LOCAL_AUTH_CREDENTIAL)} \
	START_API_PORT=$(START_API_PORT) GO=$(GO) infra/invoke.sh --start-api

## invoke-all: [INVOKE_WITH=sam]: every event of events/expected.json through the function, checked
invoke-all:
	AUTH_MODE=$${AUTH_MODE:-$(LOCAL_AUTH_MODE)} AUTH_CREDENTIAL=$${AUTH_CREDENTIAL:-$(LOCAL_AUTH_CREDENTIAL)} \
	GO=$(GO) infra/invoke.sh --all

## local-infra: start moto_server on port 5055 (LOCAL_MOTO_PORT) of 127.0.0.1 and the Docker bridge, with template.yaml's tables, topic and the webhook's log group (the delivery archive)
local-infra:
	GO=$(GO) infra/local-infra.sh >/dev/null
	@cat .local/infra.env

## local-infra-stop: stop the moto_server make local-infra started (its state is in memory and goes with it)
local-infra-stop:
	@infra/local-infra.sh --stop
