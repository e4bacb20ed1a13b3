// Package containertest runs the webhook's bootstrap the way `sam local invoke`
// and `sam local start-api` run it, without the SAM CLI: in a container on
// Docker's default bridge network, under the Lambda Runtime Interface Emulator,
// with samconfig.toml's add_host mapping and events/env.json's variables,
// against the moto_server that `make local-infra` starts. Its test carries the
// integration build tag; `make test-container` runs it (infra/with-docker.sh
// provides the Docker engine).
package containertest
