// Command loadgen sends a bounded load to a running receiver (make loadtest):
//
//	loadgen -url http://127.0.0.1:9854/pbconnect -n 20000 -c 32 -events events
//
// It is wiring only; see package loadgen.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/loadgen"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9854/pbconnect", "the receiver's webhook URL")
	n := flag.Int("n", 20000, "deliveries to send")
	c := flag.Int("c", 32, "concurrent workers")
	events := flag.String("events", "events", "the sample events folder")
	flag.Parse()

	stories, err := loadgen.Load(*events)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	report, err := loadgen.Run(ctx, loadgen.Config{URL: *url, Deliveries: *n, Workers: *c, Run: int(time.Now().Unix())}, stories)
	fmt.Printf("loadgen: %d workers: %v\n", *c, report)
	if err != nil || report.Errors > 0 {
		os.Exit(1)
	}
}
