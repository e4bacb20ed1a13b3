//go:build integration

package deploytest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/archive"
	"github.com/popbill-cashbill-webhook/receiver/internal/archive/dynamoarchive"
	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
)

// TestArchiveTableIsWhatTheArchiveWritesAndReads checks the archive table
// against package dynamoarchive: its key (day, id), its TTL attribute, and
// one index per lookup, each sorted by the id (so that no lookup needs a
// scan) and projecting no more than dynamoarchive reads from it.
func TestArchiveTableIsWhatTheArchiveWritesAndReads(t *testing.T) {
	tmpl := loadTemplate(t)
	table, err := tmpl.Resource("ArchiveTable", "AWS::DynamoDB::Table")
	if err != nil {
		t.Fatal(err)
	}
	p := table.Properties
	wantKey := []any{
		map[string]any{"AttributeName": dynamoarchive.PartitionAttribute, "KeyType": "HASH"},
		map[string]any{"AttributeName": dynamoarchive.KeyAttribute, "KeyType": "RANGE"},
	}
	if !reflect.DeepEqual(p["KeySchema"], wantKey) {
		t.Errorf("KeySchema = %v, want %v", p["KeySchema"], wantKey)
	}
	ttl, _ := p["TimeToLiveSpecification"].(map[string]any)
	if ttl["AttributeName"] != dynamoarchive.TTLAttribute || ttl["Enabled"] != true {
		t.Errorf("TimeToLiveSpecification = %v, want %s enabled", ttl, dynamoarchive.TTLAttribute)
	}
	got := map[string]any{}
	list, _ := p["GlobalSecondaryIndexes"].([]any)
	for _, x := range list {
		gsi, _ := x.(map[string]any)
		name, _ := gsi["IndexName"].(string)
		got[name] = map[string]any{"KeySchema": gsi["KeySchema"], "Projection": gsi["Projection"]}
	}
	want := map[string]any{}
	for name, index := range dynamoarchive.Indexes {
		projection := map[string]any{"ProjectionType": "KEYS_ONLY"}
		if len(index.Include) > 0 {
			var include []any
			for _, a := range index.Include {
				include = append(include, a)
			}
			projection = map[string]any{"ProjectionType": "INCLUDE", "NonKeyAttributes": include}
		}
		want[name] = map[string]any{
			"KeySchema": []any{
				map[string]any{"AttributeName": index.Partition, "KeyType": "HASH"},
				map[string]any{"AttributeName": dynamoarchive.KeyAttribute, "KeyType": "RANGE"},
			},
			"Projection": projection,
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("indexes = %v\nwant %v", got, want)
	}
	if p["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %v, want PAY_PER_REQUEST", p["BillingMode"])
	}
	if sse, _ := p["SSESpecification"].(map[string]any); sse["SSEEnabled"] != true {
		t.Error("server-side encryption with KMS is off")
	}
}

// TestArchiveFailuresAlarm checks that the alarm counts the log field the
// handler writes and tells the alert topic when it fires and when it clears.
func TestArchiveFailuresAlarm(t *testing.T) {
	tmpl := loadTemplate(t)
	filter, err := tmpl.Resource("ArchiveFailuresMetricFilter", "AWS::Logs::MetricFilter")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filter.Properties["FilterPattern"], fmt.Sprintf(`{ $.archive = "%s" }`, archive.RecordFailed); got != want {
		t.Errorf("FilterPattern = %v, want %s (archive.RecordFailed on the request line)", got, want)
	}
	if r, _ := samtemplate.Ref(filter.Properties["LogGroupName"]); r != "WebhookFunctionLogs" {
		t.Errorf("the filter reads %v, want the webhook's log group", filter.Properties["LogGroupName"])
	}
	alarm, err := tmpl.Resource("ArchiveFailuresAlarm", "AWS::CloudWatch::Alarm")
	if err != nil {
		t.Fatal(err)
	}
	for _, actions := range []string{"AlarmActions", "OKActions"} {
		if !reflect.DeepEqual(alarm.Properties[actions], []any{ref("AlertTopic")}) {
			t.Errorf("%s = %v, want the alert topic", actions, alarm.Properties[actions])
		}
	}
}
