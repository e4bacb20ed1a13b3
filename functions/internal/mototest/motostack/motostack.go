// Package motostack creates template.yaml's own state table, due index
// included, on the moto_server that `make test` starts (through localinfra,
// what `make local-infra` runs), for tests that need the index. It is apart
// from mototest because localinfra's own tests use mototest.
package motostack

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/popbill-cashbill-webhook/receiver/functions/internal/localinfra"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/modroot"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/mototest"
	"github.com/popbill-cashbill-webhook/receiver/functions/internal/samtemplate"
)

// StateTable provisions the template's tables and topics under a name unique
// to tb and returns a DynamoDB client and the state table's name.
func StateTable(tb testing.TB) (*dynamodb.Client, string) {
	tb.Helper()
	tmpl, err := samtemplate.Load(filepath.Join(modroot.Dir(tb), "template.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := mototest.Config(tb)
	db := dynamodb.NewFromConfig(cfg)
	st, err := localinfra.Provision(context.Background(), tmpl, mototest.Name(tb, "stack"), db, sns.NewFromConfig(cfg))
	if err != nil {
		tb.Fatalf("provision template.yaml on moto: %v", err)
	}
	return db, st.Refs["StateTable"]
}
