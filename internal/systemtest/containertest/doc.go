// Package containertest runs each function's bootstrap the way `sam local
// invoke FUNCTION -e EVENT` (and, for the webhook, `sam local start-api`) runs
// it, without the SAM CLI: in a container on Docker's default bridge network,
// under the Lambda Runtime Interface Emulator, with samconfig.toml's add_host
// mapping and the function's entry of events/env.json, against the moto_server
// that `make local-infra` starts. Its test carries the integration build tag;
// `make test-container` runs it (infra/with-docker.sh provides the Docker
// engine).
package containertest
