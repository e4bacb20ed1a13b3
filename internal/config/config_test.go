package config_test

import (
	"context"
	"encoding/base64"
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/ssmparam"
)

// Credentials used below; no error may repeat them.
const (
	basicCred = "popbill:hunter2-secret"
	keyCred   = "TESTAPIKEY-7a1e"
	paramName = "/popbill-webhook/prod/credential"
)

// env is a getenv over the given name, value pairs.
func env(kv map[string]string) func(string) string {
	return func(name string) string { return kv[name] }
}

// fakeSSM answers GetParameter with its function field and keeps what it was asked.
type fakeSSM struct {
	getParameter func(*ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error)
	asked        []*ssmparam.GetParameterInput
}

var _ config.SSMAPI = (*fakeSSM)(nil)

func (f *fakeSSM) GetParameter(_ context.Context, in *ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error) {
	f.asked = append(f.asked, in)
	return f.getParameter(in)
}

func ssmHolding(value *string) *fakeSSM {
	return &fakeSSM{getParameter: func(in *ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error) {
		return &ssmparam.GetParameterOutput{Parameter: &ssmparam.Parameter{Name: in.Name, Value: value}}, nil
	}}
}

func ssmFailing(err error) *fakeSSM {
	return &fakeSSM{getParameter: func(*ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error) { return nil, err }}
}

// request is a set of headers carrying credential the way mode expects it.
func request(mode auth.Mode, credential string) func(string) string {
	h := map[string]string{}
	switch mode {
	case auth.Basic:
		h["authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(credential))
	case auth.APIKey:
		h["x-api-key"] = credential
	}
	return func(name string) string { return h[strings.ToLower(name)] }
}

// assertVerifies checks that rules accept credential under mode, and only it.
func assertVerifies(t *testing.T, rules config.Rules, mode auth.Mode, credential string) {
	t.Helper()
	if rules.Auth == nil {
		t.Fatal("Rules returned no verifier")
	}
	if got := rules.Auth.Mode(); got != mode {
		t.Errorf("auth mode = %q, want %q", got, mode)
	}
	if err := rules.Auth.Verify(request(mode, credential)); err != nil {
		t.Errorf("the configured credential is refused: %v", err)
	}
	if mode != auth.None && rules.Auth.Verify(request(mode, credential+"x")) == nil {
		t.Error("a credential other than the configured one is accepted")
	}
}

// secrets are the parts of a credential that no message may repeat: all of
// it, and the password of a basic credential.
func secrets(credential string) []string {
	_, password, _ := strings.Cut(credential, ":")
	return []string{credential, password}
}

// assertErrorNames checks err names every variable in names and repeats no secret.
func assertErrorNames(t *testing.T, err error, names []string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one naming %v", names)
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not name %s", err, n)
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error %q repeats the credential %q", err, s)
		}
	}
}

func TestRulesRefuses(t *testing.T) {
	cases := []struct {
		name  string
		env   map[string]string
		names []string
	}{
		{"AUTH_MODE missing: none must be chosen explicitly", map[string]string{}, []string{config.AuthMode}},
		{"AUTH_MODE unknown", map[string]string{config.AuthMode: "hmac"}, []string{config.AuthMode}},
		{"basic without a credential", map[string]string{config.AuthMode: "basic"}, []string{config.AuthCredentialParam, config.AuthCredential}},
		{"apikey without a credential", map[string]string{config.AuthMode: "apikey"}, []string{config.AuthCredentialParam, config.AuthCredential}},
		{"both AUTH_CREDENTIAL and AUTH_CREDENTIAL_PARAM", map[string]string{config.AuthMode: "basic", config.AuthCredential: basicCred, config.AuthCredentialParam: paramName}, []string{config.AuthCredential, config.AuthCredentialParam}},
		{"none with AUTH_CREDENTIAL", map[string]string{config.AuthMode: "none", config.AuthCredential: basicCred}, []string{config.AuthMode, config.AuthCredential}},
		{"none with AUTH_CREDENTIAL_PARAM", map[string]string{config.AuthMode: "none", config.AuthCredentialParam: paramName}, []string{config.AuthMode, config.AuthCredentialParam}},
		{"a basic credential without a colon", map[string]string{config.AuthMode: "basic", config.AuthCredential: "hunter2-secret-nocolon"}, []string{config.AuthCredential}},
		{"a basic credential with an empty user", map[string]string{config.AuthMode: "basic", config.AuthCredential: ":hunter2-secret"}, []string{config.AuthCredential}},
		{"AUTH_CREDENTIAL_PARAM without an SSM client", map[string]string{config.AuthMode: "apikey", config.AuthCredentialParam: paramName}, []string{config.AuthCredentialParam}},
		{"ALLOWED_CORPNUMS with a short number", map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.AllowedCorpNums: "6798700433, 12345"}, []string{config.AllowedCorpNums, "12345"}},
		{"ALLOWED_CORPNUMS with letters", map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.AllowedCorpNums: "679870043x"}, []string{config.AllowedCorpNums}},
		{"ALLOWED_SOURCE_IPS with a host name", map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.AllowedSourceIPs: "54.180.62.221, popbill.com"}, []string{config.AllowedSourceIPs, "popbill.com"}},
		{"ALLOWED_SOURCE_IPS with a prefix length out of range", map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.AllowedSourceIPs: "54.180.62.221/33"}, []string{config.AllowedSourceIPs}},
		{"ALLOWED_SOURCE_IPS with a dash range", map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.AllowedSourceIPs: "54.180.62.1-54.180.62.9"}, []string{config.AllowedSourceIPs}},
		{"CHECK_CORPNUM_CHECKSUM yes", map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.CheckCorpNumChecksum: "yes"}, []string{config.CheckCorpNumChecksum}},
		{"CHECK_CORPNUM_CHECKSUM 1", map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.CheckCorpNumChecksum: "1"}, []string{config.CheckCorpNumChecksum}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, warning, err := config.ReadRules(context.Background(), env(tc.env), nil)
			assertErrorNames(t, err, tc.names, secrets(tc.env[config.AuthCredential])...)
			if warning != "" {
				t.Errorf("warning %q beside an error", warning)
			}
		})
	}
}

func TestRulesReads(t *testing.T) {
	cases := []struct {
		name       string
		env        map[string]string
		mode       auth.Mode
		credential string
		corpNums   []string
		sources    []string
		checksum   bool
		// warns is whether a warning is returned (AUTH_MODE=none only).
		warns bool
	}{
		{name: "basic with AUTH_CREDENTIAL", env: map[string]string{config.AuthMode: "basic", config.AuthCredential: basicCred}, mode: auth.Basic, credential: basicCred},
		{name: "basic whose password holds colons", env: map[string]string{config.AuthMode: "basic", config.AuthCredential: "popbill:pa:ss"}, mode: auth.Basic, credential: "popbill:pa:ss"},
		{name: "apikey with AUTH_CREDENTIAL", env: map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred}, mode: auth.APIKey, credential: keyCred},
		{name: "AUTH_MODE in capitals with spaces", env: map[string]string{config.AuthMode: " APIKEY ", config.AuthCredential: keyCred}, mode: auth.APIKey, credential: keyCred},
		{name: "none, chosen explicitly, warns", env: map[string]string{config.AuthMode: "none"}, mode: auth.None, warns: true},
		{name: "none with blank AUTH_CREDENTIAL_PARAM", env: map[string]string{config.AuthMode: "none", config.AuthCredentialParam: "  "}, mode: auth.None, warns: true},

		{name: "ALLOWED_CORPNUMS with spaces, dashes and empty items", env: map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.AllowedCorpNums: " 679-87-00433 , 1234567890 ,, "},
			mode: auth.APIKey, credential: keyCred, corpNums: []string{"1234567890", "6798700433"}},
		{name: "ALLOWED_CORPNUMS empty restricts nothing", env: map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.AllowedCorpNums: " , "},
			mode: auth.APIKey, credential: keyCred},

		{name: "ALLOWED_SOURCE_IPS with POPBiLL's two addresses", env: map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.AllowedSourceIPs: "54.180.62.221, 13.124.72.158"},
			mode: auth.APIKey, credential: keyCred, sources: []string{"54.180.62.221/32", "13.124.72.158/32"}},
		{name: "ALLOWED_SOURCE_IPS with a CIDR block is masked", env: map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.AllowedSourceIPs: "54.180.62.221/24"},
			mode: auth.APIKey, credential: keyCred, sources: []string{"54.180.62.0/24"}},
		{name: "ALLOWED_SOURCE_IPS with IPv6 address and block", env: map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.AllowedSourceIPs: "2001:db8::1,2001:db8:abcd::/48"},
			mode: auth.APIKey, credential: keyCred, sources: []string{"2001:db8::1/128", "2001:db8:abcd::/48"}},

		{name: "CHECK_CORPNUM_CHECKSUM true", env: map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.CheckCorpNumChecksum: "true"},
			mode: auth.APIKey, credential: keyCred, checksum: true},
		{name: "CHECK_CORPNUM_CHECKSUM TRUE with spaces", env: map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.CheckCorpNumChecksum: " TRUE "},
			mode: auth.APIKey, credential: keyCred, checksum: true},
		{name: "CHECK_CORPNUM_CHECKSUM false", env: map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred, config.CheckCorpNumChecksum: "false"},
			mode: auth.APIKey, credential: keyCred},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rules, warning, err := config.ReadRules(context.Background(), env(tc.env), nil)
			if err != nil {
				t.Fatalf("Rules failed: %v", err)
			}
			assertVerifies(t, rules, tc.mode, tc.credential)
			if got := slices.Sorted(maps.Keys(rules.AllowedCorpNums)); !slices.Equal(got, tc.corpNums) {
				t.Errorf("AllowedCorpNums = %v, want %v", got, tc.corpNums)
			}
			var sources []string
			for _, p := range rules.AllowedSources {
				sources = append(sources, p.String())
			}
			if !slices.Equal(sources, tc.sources) {
				t.Errorf("AllowedSources = %v, want %v", sources, tc.sources)
			}
			if rules.CheckCorpNumChecksum != tc.checksum {
				t.Errorf("CheckCorpNumChecksum = %v, want %v", rules.CheckCorpNumChecksum, tc.checksum)
			}
			if (warning != "") != tc.warns || (tc.warns && !strings.Contains(warning, "AUTH_MODE=none")) {
				t.Errorf("warning = %q, want one about AUTH_MODE=none: %v", warning, tc.warns)
			}
		})
	}
}

func TestRulesReadsTheCredentialFromSSM(t *testing.T) {
	cases := []struct {
		name string
		mode auth.Mode
		ssm  *fakeSSM
		// credential is what must verify; "" when Rules must fail.
		credential string
		names      []string
	}{
		{"a basic credential", auth.Basic, ssmHolding(aws.String(basicCred)), basicCred, nil},
		{"an API key", auth.APIKey, ssmHolding(aws.String(keyCred)), keyCred, nil},
		{"an SSM error names the parameter", auth.APIKey, ssmFailing(errors.New("AccessDeniedException: not authorized")), "", []string{config.AuthCredentialParam, paramName, "AccessDeniedException"}},
		{"an empty value", auth.APIKey, ssmHolding(aws.String("")), "", []string{config.AuthCredentialParam, paramName, "empty"}},
		{"no value", auth.APIKey, ssmHolding(nil), "", []string{config.AuthCredentialParam, "empty"}},
		{"no parameter in the answer", auth.APIKey, &fakeSSM{getParameter: func(*ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error) {
			return &ssmparam.GetParameterOutput{}, nil
		}}, "", []string{config.AuthCredentialParam, "empty"}},
		{"a stored basic credential without a colon", auth.Basic, ssmHolding(aws.String("hunter2-secret-nocolon")), "", []string{config.AuthCredentialParam}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := map[string]string{config.AuthMode: string(tc.mode), config.AuthCredentialParam: " " + paramName + " "}
			rules, _, err := config.ReadRules(context.Background(), env(e), tc.ssm)
			if len(tc.ssm.asked) != 1 {
				t.Fatalf("GetParameter called %d times, want once", len(tc.ssm.asked))
			}
			in := tc.ssm.asked[0]
			if aws.ToString(in.Name) != paramName || !aws.ToBool(in.WithDecryption) {
				t.Errorf("GetParameter(Name %q, WithDecryption %v), want (%q, true)", aws.ToString(in.Name), aws.ToBool(in.WithDecryption), paramName)
			}
			if tc.credential == "" {
				assertErrorNames(t, err, tc.names, secrets("hunter2-secret-nocolon")...)
				return
			}
			if err != nil {
				t.Fatalf("Rules failed: %v", err)
			}
			assertVerifies(t, rules, tc.mode, tc.credential)
		})
	}
}

func TestRulesDoesNotAskSSMWithoutAUTH_CREDENTIAL_PARAM(t *testing.T) {
	fake := ssmFailing(errors.New("must not be called"))
	_, _, err := config.ReadRules(context.Background(), env(map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred}), fake)
	if err != nil || len(fake.asked) != 0 {
		t.Errorf("Rules = %v after %d SSM calls, want no error and no call", err, len(fake.asked))
	}
}

func TestRequired(t *testing.T) {
	cases := []struct {
		name, value, want string
	}{
		{"set", "cashbill-state", "cashbill-state"},
		{"trimmed", "  cashbill-state\n", "cashbill-state"},
		{"missing", "", ""},
		{"whitespace only", " \t ", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := config.Required(env(map[string]string{config.StateTable: tc.value}), config.StateTable)
			if got != tc.want {
				t.Errorf("Required = %q, want %q", got, tc.want)
			}
			if tc.want == "" {
				assertErrorNames(t, err, []string{config.StateTable})
			} else if err != nil {
				t.Errorf("Required failed: %v", err)
			}
		})
	}
}

func TestVariablesAreUniqueAndDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range config.Variables {
		if v.Name == "" || seen[v.Name] {
			t.Errorf("variable name %q is empty or listed twice", v.Name)
		}
		seen[v.Name] = true
		if strings.TrimSpace(v.Doc) == "" {
			t.Errorf("%s has no Doc", v.Name)
		}
	}
	// A secret in a Lambda environment is visible in the console.
	for _, v := range config.Variables {
		if v.Name == config.AuthCredential && !v.LocalOnly {
			t.Errorf("%s is not LocalOnly", v.Name)
		}
	}
}

func TestVariablesListsEverySettingRulesReads(t *testing.T) {
	listed := map[string]bool{}
	for _, v := range config.Variables {
		listed[v.Name] = true
	}
	read := map[string]bool{}
	getenv := func(name string) string {
		read[name] = true
		return map[string]string{config.AuthMode: "apikey", config.AuthCredential: keyCred}[name]
	}
	if _, _, err := config.ReadRules(context.Background(), getenv, nil); err != nil {
		t.Fatal(err)
	}
	for name := range read {
		if !listed[name] {
			t.Errorf("Rules reads %s, which config.Variables does not document", name)
		}
	}
	if len(read) == 0 {
		t.Error("Rules read no variable")
	}
}

func TestREADMEDocumentsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range slices.Concat(config.Variables, config.SweeperVariables, config.LocalServerVariables) {
		if !strings.Contains(string(readme), "| `"+v.Name+"` |") {
			t.Errorf("README.md's configuration table has no row for %s", v.Name)
		}
	}
}

func TestRulesAcceptBothCredentialsDuringARotation(t *testing.T) {
	const next = "popbill:next-secret-pw"
	cases := []struct {
		name   string
		vars   map[string]string
		ssm    *fakeSSM
		accept []string
	}{
		{"no rotation: the current only", map[string]string{config.AuthMode: "basic", config.AuthCredential: basicCred}, nil, []string{basicCred}},
		{"local next", map[string]string{config.AuthMode: "basic", config.AuthCredential: basicCred, config.AuthCredentialNext: next}, nil, []string{basicCred, next}},
		{"next from SSM", map[string]string{config.AuthMode: "basic", config.AuthCredential: basicCred, config.AuthCredentialParamNext: "/next"}, ssmHolding(aws.String(next)), []string{basicCred, next}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var api config.SSMAPI
			if c.ssm != nil {
				api = c.ssm
			}
			rules, _, err := config.ReadRules(context.Background(), env(c.vars), api)
			if err != nil {
				t.Fatal(err)
			}
			for i, cred := range c.accept {
				which, err := rules.Auth.Which(request(auth.Basic, cred))
				if want := []string{auth.Current, auth.Next}[i]; err != nil || which != want {
					t.Errorf("credential %d: which %q, err %v; want %s", i, which, err, want)
				}
			}
			if rules.Auth.Verify(request(auth.Basic, "popbill:other")) == nil {
				t.Error("a third credential is accepted")
			}
		})
	}
}

func TestRulesRefuseAnInconsistentNextCredential(t *testing.T) {
	const next = "popbill:next-secret-pw"
	cases := []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"next twice", map[string]string{config.AuthMode: "basic", config.AuthCredential: basicCred, config.AuthCredentialNext: next, config.AuthCredentialParamNext: "/n"}, []string{config.AuthCredentialNext, config.AuthCredentialParamNext}},
		{"next with mode none", map[string]string{config.AuthMode: "none", config.AuthCredentialNext: next}, []string{config.AuthMode, config.AuthCredentialNext}},
		{"next of another form", map[string]string{config.AuthMode: "basic", config.AuthCredential: basicCred, config.AuthCredentialNext: "no-colon-secret"}, []string{config.AuthCredentialNext}},
		{"next parameter unreadable", map[string]string{config.AuthMode: "basic", config.AuthCredential: basicCred, config.AuthCredentialParamNext: "/n"}, []string{config.AuthCredentialParamNext}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := config.ReadRules(context.Background(), env(c.vars), ssmFailing(errors.New("ParameterNotFound")))
			assertErrorNames(t, err, c.want, append(secrets(basicCred), secrets(next)...)...)
		})
	}
}
