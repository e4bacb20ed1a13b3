//go:build integration

package deploytest

import (
	"reflect"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
)

// TestTheWebhooksLogGroupIsTheArchive checks what the delivery archive
// (package logarchive) needs of the template: the webhook logs to a log
// group of its own, kept for ArchiveRetentionDays (a retention CloudWatch
// Logs accepts), which the stack names in the output the cashbill tool
// reads; every other log group keeps LogRetentionDays.
func TestTheWebhooksLogGroupIsTheArchive(t *testing.T) {
	tmpl := loadTemplate(t)
	if got, _ := tmpl.FunctionProperty("WebhookFunction", "LoggingConfig"); !reflect.DeepEqual(got, map[string]any{"LogGroup": ref("WebhookFunctionLogs")}) {
		t.Errorf("WebhookFunction's LoggingConfig = %v, want its own log group WebhookFunctionLogs", got)
	}
	out, _ := tmpl.Outputs["WebhookLogGroupName"].(map[string]any)
	if r, _ := samtemplate.Ref(out["Value"]); r != "WebhookFunctionLogs" {
		t.Errorf("output WebhookLogGroupName = %v, want !Ref WebhookFunctionLogs (the cashbill tool reads the archive there)", out["Value"])
	}
	for _, id := range tmpl.ResourcesOfType("AWS::Logs::LogGroup") {
		want := "LogRetentionDays"
		if id == "WebhookFunctionLogs" {
			want = "ArchiveRetentionDays"
		}
		if r, _ := samtemplate.Ref(tmpl.Resources[id].Properties["RetentionInDays"]); r != want {
			t.Errorf("%s keeps its lines for %v, want !Ref %s", id, tmpl.Resources[id].Properties["RetentionInDays"], want)
		}
	}
	archive, _ := tmpl.Parameters["ArchiveRetentionDays"].(map[string]any)
	logs, _ := tmpl.Parameters["LogRetentionDays"].(map[string]any)
	if archive["AllowedValues"] == nil || !reflect.DeepEqual(archive["AllowedValues"], logs["AllowedValues"]) {
		t.Errorf("ArchiveRetentionDays allows %v, want the retentions a log group accepts, as LogRetentionDays: %v", archive["AllowedValues"], logs["AllowedValues"])
	}
	if archive["Default"] != 90 && archive["Default"] != "90" {
		t.Errorf("ArchiveRetentionDays defaults to %v, want 90", archive["Default"])
	}
}
