// Package auth verifies the credential POPBiLL sends with each webhook: HTTP
// Basic (`Authorization: Basic base64(user:password)`) or an API key
// (`X-Api-Key: KEY`), as set on the POPBiLL site. POPBiLL signs nothing, so
// this check and HTTPS are all that stand between the endpoint and a forger.
package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// Mode is how callers prove who they are.
type Mode string

// The modes an operator can choose with AUTH_MODE.
const (
	Basic  Mode = "basic"
	APIKey Mode = "apikey"
	None   Mode = "none"
)

// ParseMode reads AUTH_MODE.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case Basic, APIKey, None:
		return m, nil
	}
	return "", fmt.Errorf("must be one of basic, apikey or none, got %q", s)
}

// Rejection is a failed check. Reason is plain words, safe to show to the
// caller: it never contains what the caller sent.
type Rejection struct{ Reason string }

func (r *Rejection) Error() string { return r.Reason }

// Verifier checks requests against the configured credentials: one, or two
// during a rotation (the current one and the next).
type Verifier struct {
	mode Mode
	// want holds the SHA-256 of each credential: comparing fixed-length
	// digests in constant time leaks neither the content nor the length of
	// a secret.
	want [][sha256.Size]byte
}

// Names of the credentials, in the order New takes them.
const (
	Current = "current"
	Next    = "next"
)

// New builds a Verifier. For Basic a credential is "user:password"; for
// APIKey it is the key; for None there is none. A second credential is the
// next one of a rotation: both are accepted until the first is removed.
func New(mode Mode, current string, next ...string) (*Verifier, error) {
	if len(next) > 1 {
		return nil, fmt.Errorf("at most two credentials (the current and the next)")
	}
	creds := append([]string{current}, next...)
	v := &Verifier{mode: mode}
	for i, credential := range creds {
		switch mode {
		case Basic:
			user, _, ok := strings.Cut(credential, ":")
			if !ok || user == "" {
				return nil, fmt.Errorf("%s basic credential must have the form user:password", name(i))
			}
		case APIKey:
			if strings.TrimSpace(credential) == "" {
				return nil, fmt.Errorf("%s api key is empty", name(i))
			}
		case None:
			if credential != "" {
				return nil, fmt.Errorf("a credential is set but the mode is none")
			}
			continue
		default:
			return nil, fmt.Errorf("unknown mode %q", mode)
		}
		v.want = append(v.want, sha256.Sum256([]byte(credential)))
	}
	return v, nil
}

func name(i int) string {
	if i == 0 {
		return Current
	}
	return Next
}

// Mode is the verifier's mode.
func (v *Verifier) Mode() Mode { return v.mode }

// Verify checks a request. header returns a request header by name,
// case-insensitively, or "" when absent.
func (v *Verifier) Verify(header func(name string) string) error {
	_, err := v.Which(header)
	return err
}

// Which checks a request like Verify and names the credential it carried:
// Current or Next; "" in mode None. It asks for header names in lower case,
// as API Gateway's HTTP APIs deliver them, so a lookup finds them at once.
func (v *Verifier) Which(header func(name string) string) (string, error) {
	switch v.mode {
	case None:
		return "", nil
	case APIKey:
		key := header("x-api-key")
		if key == "" {
			return "", &Rejection{"authentication required: send the API key set on the POPBiLL site in the X-Api-Key header"}
		}
		return v.match(key, &Rejection{"authentication failed: the X-Api-Key does not match the key configured for this endpoint"})
	default:
		authz := strings.TrimSpace(header("authorization"))
		if authz == "" {
			return "", &Rejection{"authentication required: send HTTP Basic credentials (Authorization: Basic ...) as set on the POPBiLL site"}
		}
		scheme, encoded, _ := strings.Cut(authz, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return "", &Rejection{"authentication failed: this endpoint accepts only HTTP Basic authentication"}
		}
		decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
		if err != nil {
			return "", &Rejection{"authentication failed: the Basic credentials are not valid base64"}
		}
		return v.match(string(decoded), &Rejection{"authentication failed: the user name or password does not match"})
	}
}

// match compares got with every credential, always all of them, so the time
// taken says nothing about which one matched or how many are configured.
func (v *Verifier) match(got string, rejection *Rejection) (string, error) {
	sum := sha256.Sum256([]byte(got))
	found := -1
	for i, want := range v.want {
		eq := subtle.ConstantTimeCompare(sum[:], want[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return "", rejection
	}
	return name(found), nil
}
