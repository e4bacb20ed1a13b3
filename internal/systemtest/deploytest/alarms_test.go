package deploytest

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
)

// Every alarm tells the alert topic when it fires and when it clears, and
// its description, which CloudWatch puts in the e-mail it sends (whose own
// text cannot be changed), says who acts and the next step.
func TestEveryAlarmNotifiesBothWaysAndSaysTheNextStep(t *testing.T) {
	tmpl, err := samtemplate.Load(filepath.Join(modroot.Dir(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ids := tmpl.ResourcesOfType("AWS::CloudWatch::Alarm")
	if len(ids) == 0 {
		t.Fatal("template.yaml has no alarms")
	}
	topic := []any{map[string]any{"Ref": "AlertTopic"}}
	for _, id := range ids {
		props := tmpl.Resources[id].Properties
		for _, actions := range []string{"AlarmActions", "OKActions"} {
			if got := props[actions]; !reflect.DeepEqual(got, topic) {
				t.Errorf("%s %s = %v, want [!Ref AlertTopic]", id, actions, got)
			}
		}
		desc, _ := props["AlarmDescription"].(string)
		for _, want := range []string{"For the on-call engineer", "Next step:", "docs/alerts.md#alarms"} {
			if !strings.Contains(desc, want) {
				t.Errorf("%s AlarmDescription does not say %q: %q", id, want, desc)
			}
		}
		if len(desc) > 1024 {
			t.Errorf("%s AlarmDescription is %d characters, over CloudWatch's 1024", id, len(desc))
		}
	}
}
