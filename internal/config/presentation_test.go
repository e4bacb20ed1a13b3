package config_test

import (
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
)

func TestReadPresentation(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string // "corpNum=name" looked up, or the error's start
		wantErr bool
	}{
		{"reads a name beside its number", map[string]string{config.BusinessNames: "6798700433=가나다상사, 1234567890=Acme"}, "6798700433=가나다상사", false},
		{"accepts a number written with dashes", map[string]string{config.BusinessNames: "679-87-00433=가나다상사"}, "6798700433=가나다상사", false},
		{"has no names when unset", map[string]string{}, "6798700433=", false},
		{"refuses an entry without a name", map[string]string{config.BusinessNames: "6798700433="}, "BUSINESS_NAMES", true},
		{"refuses a short number", map[string]string{config.BusinessNames: "679870043=x"}, "BUSINESS_NAMES", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := config.ReadPresentation(func(k string) string { return tc.env[k] })
			if tc.wantErr {
				if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
					t.Fatalf("err = %v, want one naming %s", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			num, name, _ := strings.Cut(tc.want, "=")
			if got := p.BusinessNames[num]; got != name {
				t.Errorf("name of %s = %q, want %q", num, got, name)
			}
		})
	}
	p, err := config.ReadPresentation(func(k string) string {
		return map[string]string{config.EnvironmentName: " prod ", config.AlertLogGroup: "/aws/lambda/x", "AWS_REGION": "ap-northeast-2"}[k]
	})
	if err != nil || p.Environment != "prod" || p.Region != "ap-northeast-2" || p.LogGroup != "/aws/lambda/x" {
		t.Errorf("ReadPresentation = %+v, %v; want prod, its region and log group", p, err)
	}
}
