// Package config reads the receiver's settings from the environment, the
// public contract documented in the README and mirrored by template.yaml.
// Missing or inconsistent settings are errors that name the variable: the
// function then fails at start, closed, never open.
package config

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/popbill-cashbill-webhook/receiver/internal/auth"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/ssmparam"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// Variable is one setting of the contract. Which are required is said in
// Doc and enforced where they are read (Required, Rules).
type Variable struct {
	Name string
	// LocalOnly settings are for running on a workstation and never appear in
	// template.yaml (a secret in a Lambda environment is visible in the console).
	LocalOnly bool
	Doc       string
}

// Names of the settings.
const (
	StateTable          = "STATE_TABLE"
	AlertTopicARN       = "ALERT_TOPIC_ARN"
	AuthMode            = "AUTH_MODE"
	AuthCredential      = "AUTH_CREDENTIAL"
	AuthCredentialParam = "AUTH_CREDENTIAL_PARAM"
	// The next credential of a rotation: accepted beside the current one.
	AuthCredentialNext      = "AUTH_CREDENTIAL_NEXT"
	AuthCredentialParamNext = "AUTH_CREDENTIAL_PARAM_NEXT"
	AllowedCorpNums         = "ALLOWED_CORPNUMS"
	AllowedSourceIPs        = "ALLOWED_SOURCE_IPS"
	CheckCorpNumChecksum    = "CHECK_CORPNUM_CHECKSUM"
	ArchiveRetentionDays    = "ARCHIVE_RETENTION_DAYS"
	// ArchiveLogGroup is the delivery archive's log group for the programs
	// that are not the Lambda (the local server on DynamoDB, the cashbill
	// tool without --stack); the Lambda's archive is its own log group.
	ArchiveLogGroup = "ARCHIVE_LOG_GROUP"
)

// Variables is every setting the webhook function reads: its own, then
// those of every alert publisher (presentation, storms).
var Variables = slices.Concat(webhookVariables, PresentationVariables, StormVariables)

var webhookVariables = []Variable{
	{Name: StateTable, Doc: "Required. DynamoDB table holding one item per cashbill (partition key itemKey)."},
	{Name: AlertTopicARN, Doc: "Required. SNS topic that receives one message per NTS filing failure (stateCode 305)."},
	{Name: AuthMode, Doc: "Required. `basic`, `apikey` or `none`, as set under Webhook 인증 on the POPBiLL site. `none` must be chosen explicitly and logs a warning at start."},
	{Name: AuthCredential, LocalOnly: true, Doc: "The credential itself: `user:password` for basic, the key for apikey. For local use; set exactly one of this and AUTH_CREDENTIAL_PARAM."},
	{Name: AuthCredentialParam, Doc: "Name of an SSM SecureString holding the credential; read once per cold start. For production."},
	{Name: AuthCredentialNext, LocalOnly: true, Doc: "During a credential rotation, the next credential, accepted beside the current one. For local use; set at most one of this and AUTH_CREDENTIAL_PARAM_NEXT."},
	{Name: AuthCredentialParamNext, Doc: "During a credential rotation, the name of an SSM SecureString holding the next credential, accepted beside the current one; empty otherwise."},
	{Name: AllowedCorpNums, Doc: "Optional comma-separated business numbers (10 digits). Events for any other business are refused with 403 and not stored."},
	{Name: AllowedSourceIPs, Doc: "Optional comma-separated IP addresses or CIDR blocks; other callers get 403. POPBiLL publishes 54.180.62.221 and 13.124.72.158."},
	{Name: CheckCorpNumChecksum, Doc: "`true` refuses business numbers whose NTS check digit is wrong (vendor examples such as 1234567890 fail it). Default `false`."},
	ObservabilityVariables[0], ObservabilityVariables[1],
}

// DefaultArchiveRetentionDays is ARCHIVE_RETENTION_DAYS when it is not set.
const DefaultArchiveRetentionDays = 90

// ReadArchiveRetention reads ARCHIVE_RETENTION_DAYS.
func ReadArchiveRetention(getenv func(string) string) (time.Duration, error) {
	days := DefaultArchiveRetentionDays
	if v := strings.TrimSpace(getenv(ArchiveRetentionDays)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3650 {
			return 0, fmt.Errorf("%s must be a whole number of days from 1 to 3650, got %q", ArchiveRetentionDays, v)
		}
		days = n
	}
	return time.Duration(days) * 24 * time.Hour, nil
}

// ReadRules reads the webhook's request-checking settings. ssmAPI may be nil
// when AUTH_CREDENTIAL_PARAM is not used. The second result is a warning to
// log (AUTH_MODE=none), or "".
func ReadRules(ctx context.Context, getenv func(string) string, ssmAPI SSMAPI) (webhook.Rules, string, error) {
	var r webhook.Rules
	mode, err := auth.ParseMode(getenv(AuthMode))
	if err != nil {
		return r, "", fmt.Errorf("%s %w", AuthMode, err)
	}
	cred, err := credential(ctx, mode, getenv, ssmAPI)
	if err != nil {
		return r, "", err
	}
	next, err := nextCredential(ctx, mode, getenv, ssmAPI)
	if err != nil {
		return r, "", err
	}
	if len(next) > 0 {
		if _, err := auth.New(mode, next[0]); err != nil {
			return r, "", fmt.Errorf("%s/%s: %w", AuthCredentialNext, AuthCredentialParamNext, err)
		}
	}
	r.Auth, err = auth.New(mode, cred, next...)
	if err != nil {
		return r, "", fmt.Errorf("%s/%s: %w", AuthCredential, AuthCredentialParam, err)
	}
	if r.AllowedCorpNums, err = corpNums(getenv(AllowedCorpNums)); err != nil {
		return r, "", err
	}
	if r.AllowedSources, err = prefixes(getenv(AllowedSourceIPs)); err != nil {
		return r, "", err
	}
	switch v := getenv(CheckCorpNumChecksum); strings.ToLower(strings.TrimSpace(v)) {
	case "", "false":
	case "true":
		r.CheckCorpNumChecksum = true
	default:
		return r, "", fmt.Errorf("%s must be true or false, got %q", CheckCorpNumChecksum, v)
	}
	warning := ""
	if mode == auth.None {
		warning = "AUTH_MODE=none: every request is accepted without a credential; anyone who knows the URL can forge events"
	}
	return r, warning, nil
}

func credential(ctx context.Context, mode auth.Mode, getenv func(string) string, ssmAPI SSMAPI) (string, error) {
	direct, param := getenv(AuthCredential), strings.TrimSpace(getenv(AuthCredentialParam))
	switch {
	case mode == auth.None && (direct != "" || param != ""):
		return "", fmt.Errorf("%s is none but %s or %s is set: remove the credential or choose basic/apikey", AuthMode, AuthCredential, AuthCredentialParam)
	case mode == auth.None:
		return "", nil
	case direct != "" && param != "":
		return "", fmt.Errorf("set only one of %s and %s", AuthCredential, AuthCredentialParam)
	case direct != "":
		return direct, nil
	case param == "":
		return "", fmt.Errorf("%s is %s: set %s (production) or %s (local)", AuthMode, mode, AuthCredentialParam, AuthCredential)
	}
	v, err := secureString(ctx, ssmAPI, param)
	if err != nil {
		return "", fmt.Errorf("%s: parameter %q: %w", AuthCredentialParam, param, err)
	}
	return v, nil
}

// nextCredential reads the next credential of a rotation, when one is set.
// Two parameters rather than two values in one: adding or removing the next
// one is a deploy that leaves the current one untouched, and a deploy
// restarts every instance, so none keeps a credential read before the change.
func nextCredential(ctx context.Context, mode auth.Mode, getenv func(string) string, ssmAPI SSMAPI) ([]string, error) {
	direct, param := getenv(AuthCredentialNext), strings.TrimSpace(getenv(AuthCredentialParamNext))
	switch {
	case direct == "" && param == "":
		return nil, nil
	case mode == auth.None:
		return nil, fmt.Errorf("%s is none but %s or %s is set: remove it or choose basic/apikey", AuthMode, AuthCredentialNext, AuthCredentialParamNext)
	case direct != "" && param != "":
		return nil, fmt.Errorf("set only one of %s and %s", AuthCredentialNext, AuthCredentialParamNext)
	case direct != "":
		return []string{direct}, nil
	}
	v, err := secureString(ctx, ssmAPI, param)
	if err != nil {
		return nil, fmt.Errorf("%s: parameter %q: %w", AuthCredentialParamNext, param, err)
	}
	return []string{v}, nil
}

// SSMAPI is the one SSM call the receiver and the notifier make.
// Its method keeps the SDK's name and shape (the IAM action is derived from
// it) but ssmparam's types: importing the SDK's SSM client costs more at cold
// start than everything else in init together.
type SSMAPI interface {
	GetParameter(ctx context.Context, params *ssmparam.GetParameterInput) (*ssmparam.GetParameterOutput, error)
}

var _ SSMAPI = (*ssmparam.Client)(nil)

// secureString reads and decrypts the SSM parameter name. Its errors never
// hold the value.
func secureString(ctx context.Context, ssmAPI SSMAPI, name string) (string, error) {
	if ssmAPI == nil {
		return "", errors.New("no SSM client to read it with")
	}
	out, err := ssmAPI.GetParameter(ctx, &ssmparam.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("read SSM parameter: %w", err)
	}
	if out.Parameter == nil || aws.ToString(out.Parameter.Value) == "" {
		return "", errors.New("the SSM parameter is empty")
	}
	return aws.ToString(out.Parameter.Value), nil
}

func corpNums(s string) (map[string]bool, error) {
	items := list(s)
	if len(items) == 0 {
		return nil, nil
	}
	set := make(map[string]bool, len(items))
	for _, n := range items {
		n = strings.ReplaceAll(n, "-", "")
		if !cashbill.IsBusinessNumber(n) {
			return nil, fmt.Errorf("%s: %q is not a 10-digit business number", AllowedCorpNums, n)
		}
		set[n] = true
	}
	return set, nil
}

func prefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range list(s) {
		if p, err := netip.ParsePrefix(item); err == nil {
			if p.Addr().Is4In6() {
				// Callers' addresses are compared unmapped, so the entry must be too.
				p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is neither an IP address nor a CIDR block", AllowedSourceIPs, item)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Required returns the value of a required variable, or an error naming it.
func Required(getenv func(string) string, name string) (string, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return "", errors.New(name + " is required but not set")
	}
	return v, nil
}
