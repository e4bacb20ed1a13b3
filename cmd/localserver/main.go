// Command localserver runs the receiver on a workstation (make run); see
// package localserver for its settings and routes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/popbill-cashbill-webhook/receiver/internal/localserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := localserver.Run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "localserver stopped:", err)
		os.Exit(1)
	}
}
