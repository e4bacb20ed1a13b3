package alert

import (
	"net/url"
	"strings"
)

// POPBiLLURL is the site where a rejected receipt is found and issued again.
const POPBiLLURL = "https://www.popbill.com"

// DefaultRunbookURL is the runbook when none is configured: the path of
// docs/alerts.md in the receiver's repository, where every kind of alert is
// shown with what to do about it. A deployment that hosts the repository
// sets ALERT_RUNBOOK_URL to a full address instead.
const DefaultRunbookURL = "docs/alerts.md"

// Presentation is what a deployment adds to every alert it publishes, so
// that the reader knows where it came from and where to look: the
// environment (dev, prod), the business's display name, a runbook and a
// CloudWatch Logs Insights link. The outbox (package outbox) stamps it on
// each alert it publishes; the Slack notifier reads it from the alert.
type Presentation struct {
	// Environment is the deployment's name, e.g. "prod"; empty: none shown.
	Environment string
	// BusinessNames maps a 10-digit business number to a display name.
	BusinessNames map[string]string
	// RunbookURL is the runbook's address; empty: DefaultRunbookURL.
	RunbookURL string
	// Region and LogGroup locate the webhook's logs; either empty: no logs link.
	Region, LogGroup string
}

// Stamp returns f carrying p: the environment, the business's name, the
// runbook (with the anchor for f's kind) and a Logs Insights link that finds
// f's cashbill. Every added field is cleaned as event fields are.
func (p Presentation) Stamp(f Failure) Failure {
	f.Environment = fieldText(p.Environment)
	f.BusinessName = fieldText(p.BusinessNames[f.FranchiseCorpNum])
	f.RunbookURL = p.runbook(runbookAnchor(KindOf(f)))
	query := `fields @timestamp, @message | filter itemKey = "` + f.ItemKey + `" | sort @timestamp desc`
	if IsDigest(f) {
		// Each delivery digested into the window logs the digest's alert id.
		query = `fields @timestamp, itemKey, mid | filter alertId = "` + IDOf(f) + `" | sort @timestamp desc`
	}
	f.LogsURL = LogsInsightsURL(p.Region, p.LogGroup, query)
	return f
}

func (p Presentation) runbook(anchor string) string {
	base := strings.TrimSpace(p.RunbookURL)
	if base == "" {
		base = DefaultRunbookURL
	}
	return base + "#" + anchor
}

// runbookAnchor is the section of docs/alerts.md about an alert kind.
func runbookAnchor(kind Kind) string {
	switch kind {
	case KindOverdue:
		return "nts-result-overdue"
	case KindDigest:
		return "digest"
	}
	return "nts-rejected"
}

// LogsInsightsURL is the CloudWatch console address of a Logs Insights query
// over the last day of logGroup in region, or "" when either is unknown.
// The console reads its state from the fragment, in its own escaping: each
// value URL-escaped with '*' in place of '%', inside a "~(...)" record.
func LogsInsightsURL(region, logGroup, query string) string {
	if region == "" || logGroup == "" {
		return ""
	}
	esc := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(url.QueryEscape(s), "+", "%20"), "%", "*")
	}
	detail := "~(end~0~start~-86400~timeType~'RELATIVE~unit~'seconds~editorString~'" + esc(query) +
		"~source~(~'" + esc(logGroup) + "))"
	return "https://" + region + ".console.aws.amazon.com/cloudwatch/home?region=" + region +
		"#logsV2:logs-insights$3FqueryDetail$3D" + detail
}

// ParseBusinessNames reads "6798700433=가나다상사,1234567890=..." into a map.
// It reports the first entry that is not a 10-digit number, '=' and a name.
func ParseBusinessNames(s string) (map[string]string, string, bool) {
	names := map[string]string{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		num, name, ok := strings.Cut(entry, "=")
		num, name = strings.ReplaceAll(strings.TrimSpace(num), "-", ""), strings.TrimSpace(name)
		if !ok || name == "" || len(num) != 10 || strings.Trim(num, "0123456789") != "" {
			return nil, entry, false
		}
		names[num] = fieldText(name)
	}
	return names, "", true
}
