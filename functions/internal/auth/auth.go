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

// Verifier checks requests against one configured credential.
type Verifier struct {
	mode Mode
	// want is the SHA-256 of the credential: comparing fixed-length digests in
	// constant time leaks neither the content nor the length of the secret.
	want [sha256.Size]byte
}

// New builds a Verifier. For Basic the credential is "user:password"; for
// APIKey it is the key; for None it must be empty.
func New(mode Mode, credential string) (*Verifier, error) {
	switch mode {
	case Basic:
		user, _, ok := strings.Cut(credential, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("basic credential must have the form user:password")
		}
	case APIKey:
		if strings.TrimSpace(credential) == "" {
			return nil, fmt.Errorf("api key is empty")
		}
	case None:
		if credential != "" {
			return nil, fmt.Errorf("a credential is set but the mode is none")
		}
	default:
		return nil, fmt.Errorf("unknown mode %q", mode)
	}
	return &Verifier{mode: mode, want: sha256.Sum256([]byte(credential))}, nil
}

// Mode is the verifier's mode.
func (v *Verifier) Mode() Mode { return v.mode }

// Verify checks a request. header returns a request header by name,
// case-insensitively, or "" when absent.
func (v *Verifier) Verify(header func(name string) string) error {
	switch v.mode {
	case None:
		return nil
	case APIKey:
		key := header("X-Api-Key")
		if key == "" {
			return &Rejection{"authentication required: send the API key set on the POPBiLL site in the X-Api-Key header"}
		}
		if !v.matches(key) {
			return &Rejection{"authentication failed: the X-Api-Key does not match the key configured for this endpoint"}
		}
		return nil
	default:
		authz := strings.TrimSpace(header("Authorization"))
		if authz == "" {
			return &Rejection{"authentication required: send HTTP Basic credentials (Authorization: Basic ...) as set on the POPBiLL site"}
		}
		scheme, encoded, _ := strings.Cut(authz, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return &Rejection{"authentication failed: this endpoint accepts only HTTP Basic authentication"}
		}
		decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
		if err != nil {
			return &Rejection{"authentication failed: the Basic credentials are not valid base64"}
		}
		if !v.matches(string(decoded)) {
			return &Rejection{"authentication failed: the user name or password does not match"}
		}
		return nil
	}
}

func (v *Verifier) matches(got string) bool {
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], v.want[:]) == 1
}
