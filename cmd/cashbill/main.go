// Command cashbill is the operators' tool: what happened to a cashbill, what
// arrived, and replaying archived deliveries. See package operator, or run
// it with --help.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/popbill-cashbill-webhook/receiver/internal/operator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := operator.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
