// Command localserver runs the receiver on a workstation (make run); see
// package localserver for its settings and routes.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/popbill-cashbill-webhook/receiver/internal/localserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := localserver.Run(ctx, os.Getenv, os.Stdout); errors.Is(err, localserver.ErrPortBusy) {
		fmt.Fprintln(os.Stderr, "localserver:", err)
		os.Exit(1)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "localserver stopped:", err)
		os.Exit(1)
	}
}
