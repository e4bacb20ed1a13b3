// Package motostack creates template.yaml's tables and topics on the
// moto_server of make test (through localinfra, what make local-infra runs),
// for tests whose table needs the template's indexes (mototest.Table makes
// key-only tables). It is apart from mototest because localinfra's own tests
// use mototest.
package motostack

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/internal/localinfra"
	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

// New creates template.yaml's tables and topics on moto_server under a name
// unique to the test, as make local-infra does, so that a test's table has
// the template's keys and indexes and cannot drift from them. Its Refs hold
// the tables' names and the topics' ARNs by logical ID.
func New(tb testing.TB) *localinfra.Stack {
	tb.Helper()
	tmpl, err := samtemplate.Load(filepath.Join(modroot.Dir(tb), "template.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := mototest.Config(tb)
	st, err := localinfra.Provision(context.Background(), tmpl, mototest.Name(tb, "stack"), dynamodb.NewFromConfig(cfg), sns.NewFromConfig(cfg))
	if err != nil {
		tb.Fatalf("create template.yaml's resources on moto: %v", err)
	}
	return st
}

// StateTable creates the template's resources as New does and returns a
// DynamoDB client and the state table's name.
func StateTable(tb testing.TB) (*dynamodb.Client, string) {
	tb.Helper()
	st := New(tb)
	return dynamodb.NewFromConfig(mototest.Config(tb)), st.Refs["StateTable"]
}
