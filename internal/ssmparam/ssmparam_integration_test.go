//go:build integration

package ssmparam_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/ssmparam"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/mototest"
)

// TestGetParameterAgainstMoto reads what the SDK's own client stored: a
// SecureString decrypted, a String, and a missing parameter as
// ParameterNotFound. moto does not check signatures; the unit tests check
// the request's shape.
func TestGetParameterAgainstMoto(t *testing.T) {
	cfg := mototest.Config(t)
	secure, plain := "/"+mototest.Name(t, "popbill")+"/secure", "/"+mototest.Name(t, "popbill")+"/plain"
	for name, typ := range map[string]ssmtypes.ParameterType{secure: ssmtypes.ParameterTypeSecureString, plain: ssmtypes.ParameterTypeString} {
		if _, err := ssm.NewFromConfig(cfg).PutParameter(t.Context(), &ssm.PutParameterInput{
			Name: aws.String(name), Type: typ, Value: aws.String("value of " + name),
		}); err != nil {
			t.Fatal(err)
		}
	}
	client := ssmparam.New(cfg, func(string) string { return "" })
	cases := []struct {
		name     string
		param    string
		wantType string
		wantCode string
	}{
		{"a SecureString, decrypted", secure, "SecureString", ""},
		{"a String", plain, "String", ""},
		{"a missing parameter", "/" + mototest.Name(t, "popbill") + "/missing", "", "ParameterNotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := client.GetParameter(t.Context(), &ssmparam.GetParameterInput{Name: aws.String(tc.param), WithDecryption: aws.Bool(true)})
			if tc.wantCode != "" {
				var e *ssmparam.Error
				if !errors.As(err, &e) || e.Code != tc.wantCode || e.Name != tc.param {
					t.Fatalf("GetParameter error = %v, want %s naming %s", err, tc.wantCode, tc.param)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := out.Parameter
			if p == nil || aws.ToString(p.Value) != "value of "+tc.param || aws.ToString(p.Type) != tc.wantType || aws.ToString(p.Name) != tc.param {
				t.Errorf("Parameter = %+v, want %s %s holding its value", p, tc.wantType, tc.param)
			}
		})
	}
}
