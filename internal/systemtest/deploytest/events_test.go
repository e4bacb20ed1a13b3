//go:build integration

package deploytest

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/streampoll"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// TestStateChangesFlowFromTheStreamToTheBus pins what the forwarder's code
// relies on (docs/events.md): a stream with both images on the state table;
// a mapping from it to the forwarder that takes partial batch responses,
// keeps retrying in order for hours, then parks the batch in the dead-letter
// queue; the forwarder writing to the bus the stack outputs.
func TestStateChangesFlowFromTheStreamToTheBus(t *testing.T) {
	tmpl := loadTemplate(t)
	table, err := tmpl.Resource("StateTable", "AWS::DynamoDB::Table")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"StreamViewType": "NEW_AND_OLD_IMAGES"}; !reflect.DeepEqual(table.Properties["StreamSpecification"], want) {
		t.Errorf("StateTable StreamSpecification = %v, want %v: the forwarder compares the old and new stateCode", table.Properties["StreamSpecification"], want)
	}
	esm, err := tmpl.Resource("EventForwarderStream", "AWS::Lambda::EventSourceMapping")
	if err != nil {
		t.Fatal(err)
	}
	p := esm.Properties
	for prop, want := range map[string]any{
		"FunctionName":          ref("EventForwarderFunction"),
		"EventSourceArn":        getAtt("StateTable", "StreamArn"),
		"StartingPosition":      "TRIM_HORIZON",
		"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
		"MaximumRetryAttempts":  -1,
		"DestinationConfig":     map[string]any{"OnFailure": map[string]any{"Destination": getAtt("EventsDeadLetterQueue", "Arn")}},
		"BatchSize":             streampoll.BatchSize,
	} {
		if got := p[prop]; !reflect.DeepEqual(got, want) {
			t.Errorf("EventForwarderStream %s = %#v, want %#v", prop, got, want)
		}
	}
	if age, _ := p["MaximumRecordAgeInSeconds"].(int); age < 3600 || age > 12*3600 {
		t.Errorf("MaximumRecordAgeInSeconds = %v: want hours of retries, and half the stream's 24 hours left for a redrive", p["MaximumRecordAgeInSeconds"])
	}
	if p["BisectBatchOnFunctionError"] == true || p["ParallelizationFactor"] != nil {
		t.Error("the mapping splits or parallelises batches: the forwarder reports its own failures, in order")
	}
	vars, err := tmpl.Environment("EventForwarderFunction")
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := samtemplate.Ref(vars[config.EventBusName]); r != "EventBus" {
		t.Errorf("%s = %v, want !Ref EventBus", config.EventBusName, vars[config.EventBusName])
	}
	raw, err := os.ReadFile(filepath.Join(modroot.Dir(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Outputs:\n(?:.*\n)*  EventBusName:\n(?:    .*\n)*?    Value: !Ref EventBus$`).Match(raw) {
		t.Error("template.yaml has no output EventBusName = !Ref EventBus")
	}
}
