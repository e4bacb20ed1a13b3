package auth_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
)

// Secrets used below; none of them may appear in a rejection.
const (
	user     = "popbill"
	password = "s3cret-pw"
	apiKey   = "TESTAPIKEY-9f2c"
)

func basicHeader(userPass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPass))
}

// headers is a header lookup that, like the webhook's, ignores the case of
// the name: HTTP APIs lower-case header names.
func headers(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[strings.ToLower(kv[i])] = kv[i+1]
	}
	return func(name string) string { return m[strings.ToLower(name)] }
}

func mustNew(t *testing.T, mode auth.Mode, credential string) *auth.Verifier {
	t.Helper()
	v, err := auth.New(mode, credential)
	if err != nil {
		t.Fatalf("New(%q, ...) failed: %v", mode, err)
	}
	return v
}

func TestParseMode(t *testing.T) {
	cases := []struct {
		name, in string
		want     auth.Mode
		ok       bool
	}{
		{"basic", "basic", auth.Basic, true},
		{"apikey", "apikey", auth.APIKey, true},
		{"none", "none", auth.None, true},
		{"case is ignored", "BASIC", auth.Basic, true},
		{"surrounding spaces are ignored", " apikey ", auth.APIKey, true},
		{"empty is refused: none must be chosen explicitly", "", "", false},
		{"an unknown mode is refused", "hmac", "", false},
		{"the header name is not a mode", "x-api-key", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := auth.ParseMode(tc.in)
			if got != tc.want || (err == nil) != tc.ok {
				t.Errorf("ParseMode(%q) = %q, %v; want %q, ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestNewRefusesUnusableCredentials(t *testing.T) {
	cases := []struct {
		name       string
		mode       auth.Mode
		credential string
	}{
		{"basic without a colon", auth.Basic, "popbillsecret"},
		{"basic with an empty user", auth.Basic, ":" + password},
		{"basic empty", auth.Basic, ""},
		{"apikey empty", auth.APIKey, ""},
		{"apikey only whitespace", auth.APIKey, "  \t"},
		{"none with a credential", auth.None, apiKey},
		{"an unknown mode", auth.Mode("hmac"), apiKey},
		{"the empty mode", auth.Mode(""), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := auth.New(tc.mode, tc.credential)
			if err == nil {
				t.Fatalf("New(%q, %q) = %v, want an error", tc.mode, tc.credential, v)
			}
			if v != nil {
				t.Errorf("New returned a verifier beside its error")
			}
			if strings.TrimSpace(tc.credential) != "" && strings.Contains(err.Error(), tc.credential) {
				t.Errorf("error %q repeats the credential", err)
			}
		})
	}
}

func TestNewKeepsTheMode(t *testing.T) {
	for mode, cred := range map[auth.Mode]string{auth.Basic: user + ":" + password, auth.APIKey: apiKey, auth.None: ""} {
		if got := mustNew(t, mode, cred).Mode(); got != mode {
			t.Errorf("Mode() = %q, want %q", got, mode)
		}
	}
}

func TestVerify(t *testing.T) {
	cases := []struct {
		name       string
		mode       auth.Mode
		credential string
		header     func(string) string
		// accept is false when the request must get a *auth.Rejection.
		accept bool
		// secret is what the caller sent that the Reason must not repeat.
		secret string
	}{
		// basic
		{"basic: the right user and password", auth.Basic, user + ":" + password, headers("Authorization", basicHeader(user+":"+password)), true, ""},
		{"basic: a wrong password", auth.Basic, user + ":" + password, headers("Authorization", basicHeader(user+":wrong-pw-77")), false, "wrong-pw-77"},
		{"basic: a wrong user", auth.Basic, user + ":" + password, headers("Authorization", basicHeader("intruder:"+password)), false, "intruder"},
		{"basic: a password that is a prefix of the right one", auth.Basic, user + ":" + password, headers("Authorization", basicHeader(user+":s3cret")), false, "s3cret"},
		{"basic: no Authorization header", auth.Basic, user + ":" + password, headers(), false, ""},
		{"basic: an empty Authorization header", auth.Basic, user + ":" + password, headers("Authorization", "  "), false, ""},
		{"basic: a Bearer token instead", auth.Basic, user + ":" + password, headers("Authorization", "Bearer tok-3141"), false, "tok-3141"},
		{"basic: the scheme alone", auth.Basic, user + ":" + password, headers("Authorization", "Basic"), false, ""},
		{"basic: the scheme in lower case", auth.Basic, user + ":" + password, headers("Authorization", strings.ToLower("BASIC ")+base64.StdEncoding.EncodeToString([]byte(user+":"+password))), true, ""},
		{"basic: extra spaces around the credentials", auth.Basic, user + ":" + password, headers("Authorization", "  Basic   "+base64.StdEncoding.EncodeToString([]byte(user+":"+password))+" "), true, ""},
		{"basic: malformed base64", auth.Basic, user + ":" + password, headers("Authorization", "Basic !!not-base64-4242!!"), false, "not-base64-4242"},
		{"basic: URL-safe base64 is not standard base64", auth.Basic, user + ":pa>>ss", headers("Authorization", "Basic "+base64.URLEncoding.EncodeToString([]byte(user+":pa>>ss"))), false, ""},
		{"basic: the password may contain colons", auth.Basic, user + ":pa:ss", headers("Authorization", basicHeader(user+":pa:ss")), true, ""},
		{"basic: a password with colons is compared whole", auth.Basic, user + ":pa:ss", headers("Authorization", basicHeader(user+":pa")), false, ""},
		{"basic: the credentials sent raw, not encoded", auth.Basic, user + ":" + password, headers("Authorization", "Basic "+user+":"+password), false, password},
		{"basic: an API key is not Basic credentials", auth.Basic, user + ":" + password, headers("X-Api-Key", user+":"+password), false, password},
		{"basic: the header name in any case", auth.Basic, user + ":" + password, headers("AUTHORIZATION", basicHeader(user+":"+password)), true, ""},

		// apikey
		{"apikey: the right key", auth.APIKey, apiKey, headers("X-Api-Key", apiKey), true, ""},
		{"apikey: the header lower-cased by API Gateway", auth.APIKey, apiKey, headers("x-api-key", apiKey), true, ""},
		{"apikey: a wrong key", auth.APIKey, apiKey, headers("X-Api-Key", "WRONGKEY-1234"), false, "WRONGKEY-1234"},
		{"apikey: a key that differs only in case", auth.APIKey, apiKey, headers("X-Api-Key", strings.ToLower(apiKey)), false, strings.ToLower(apiKey)},
		{"apikey: the key with a character more", auth.APIKey, apiKey, headers("X-Api-Key", apiKey+"x"), false, apiKey + "x"},
		{"apikey: no X-Api-Key header", auth.APIKey, apiKey, headers(), false, ""},
		{"apikey: the key sent as Basic credentials", auth.APIKey, apiKey, headers("Authorization", basicHeader(apiKey)), false, apiKey},

		// none
		{"none: a request without credentials", auth.None, "", headers(), true, ""},
		{"none: a request with any credentials", auth.None, "", headers("Authorization", "Bearer whatever", "X-Api-Key", "anything"), true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := mustNew(t, tc.mode, tc.credential).Verify(tc.header)
			if tc.accept {
				if err != nil {
					t.Fatalf("Verify refused: %v", err)
				}
				return
			}
			var rej *auth.Rejection
			if !errors.As(err, &rej) {
				t.Fatalf("Verify = %v, want a *auth.Rejection", err)
			}
			if rej.Reason == "" || rej.Error() != rej.Reason {
				t.Errorf("Rejection %#v: want a Reason that is also its Error()", rej)
			}
			for _, s := range []string{tc.secret, password, apiKey} {
				if s != "" && strings.Contains(rej.Reason, s) {
					t.Errorf("Reason %q contains the secret %q", rej.Reason, s)
				}
			}
		})
	}
}

func TestVerifyLooksUpTheHeaderItIsAbout(t *testing.T) {
	cases := []struct {
		mode       auth.Mode
		credential string
		want       string
	}{
		{auth.Basic, user + ":" + password, "authorization"},
		{auth.APIKey, apiKey, "x-api-key"},
	}
	for _, tc := range cases {
		t.Run(string(tc.mode), func(t *testing.T) {
			var asked []string
			_ = mustNew(t, tc.mode, tc.credential).Verify(func(name string) string {
				asked = append(asked, strings.ToLower(name))
				return ""
			})
			if len(asked) != 1 || asked[0] != tc.want {
				t.Errorf("Verify looked up %q, want only %q", asked, tc.want)
			}
		})
	}
}

func TestARotationAcceptsTheCurrentAndTheNextCredentialAndNamesThem(t *testing.T) {
	const next = "popbill:n3xt-pw"
	basic, err := auth.New(auth.Basic, user+":"+password, next)
	if err != nil {
		t.Fatal(err)
	}
	key, err := auth.New(auth.APIKey, apiKey, "NEXTKEY-1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		v       *auth.Verifier
		headers func(string) string
		want    string
		refused bool
	}{
		{"basic, current", basic, headers("Authorization", basicHeader(user+":"+password)), auth.Current, false},
		{"basic, next", basic, headers("Authorization", basicHeader(next)), auth.Next, false},
		{"basic, neither", basic, headers("Authorization", basicHeader("popbill:old-pw")), "", true},
		{"api key, current", key, headers("X-Api-Key", apiKey), auth.Current, false},
		{"api key, next", key, headers("X-Api-Key", "NEXTKEY-1"), auth.Next, false},
		{"api key, neither", key, headers("X-Api-Key", "NEXTKEY-2"), "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			which, err := c.v.Which(c.headers)
			if which != c.want || (err != nil) != c.refused {
				t.Errorf("Which = %q, %v; want %q, refused %v", which, err, c.want, c.refused)
			}
			if (c.v.Verify(c.headers) != nil) != c.refused {
				t.Errorf("Verify disagrees with Which")
			}
		})
	}
}

func TestNewRefusesAThirdCredentialOrAnUnusableNextOne(t *testing.T) {
	if _, err := auth.New(auth.Basic, "a:b", "c:d", "e:f"); err == nil {
		t.Error("three credentials accepted")
	}
	if _, err := auth.New(auth.Basic, "a:b", "no-colon"); err == nil || !strings.Contains(err.Error(), "next") {
		t.Errorf("an unusable next credential: %v, want an error naming it next", err)
	}
}
