// Package motostack creates template.yaml's tables and topics on the
// moto_server of make test, for tests whose table needs the template's
// indexes (mototest.Table makes key-only tables). It is apart from mototest
// because localinfra's own tests use mototest.
package motostack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/localinfra"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/mototest"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/samtemplate"
)

var seq atomic.Int64

// New creates template.yaml's tables and topics on moto_server under a
// name unique to the test, as make local-infra does, so that a test's table
// has the template's keys and indexes and cannot drift from them. Its Refs
// hold the tables' names and the topics' ARNs by logical ID.
func New(tb testing.TB) *localinfra.Stack {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "template.yaml")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no template.yaml above the test's directory")
		}
		dir = parent
	}
	tmpl, err := samtemplate.Load(filepath.Join(dir, "template.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := mototest.Config(tb)
	st, err := localinfra.Provision(context.Background(), tmpl, fmt.Sprintf("stack-%d-%d", time.Now().UnixNano()%1_000_000_000, seq.Add(1)), dynamodb.NewFromConfig(cfg), sns.NewFromConfig(cfg))
	if err != nil {
		tb.Fatalf("create template.yaml's resources on moto: %v", err)
	}
	return st
}
