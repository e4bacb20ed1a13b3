// Package blockkit renders what the Slack notifier posts as Block Kit
// messages: an NTS-failure alert, in the words of package alert, and a
// CloudWatch alarm. It only builds messages; posting them is slacknotify's.
package blockkit

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	slackapi "github.com/slack-go/slack"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
)

// Slack's Block Kit limits, in characters. Slack rejects a message that
// breaks one with 400 invalid_blocks, and a rejected alert is a lost alert, so
// Alert cuts text to fit instead.
const (
	headerLimit = 150
	fieldLimit  = 2000
	maxFields   = 10
	textLimit   = 3000 // section text, context element text, the notification text
)

// Alert is the Slack message for an NTS-failure or overdue alert: a header
// naming the environment, the receipt and what happened; a short Korean
// block (meaning, who acts, steps); the English one with the receipt's
// details as section fields; the English steps; and a context line with when
// POPBiLL reported it, what the MID finds, and the runbook and logs links.
func Alert(f alert.Failure) *slackapi.WebhookMessage {
	if alert.IsDigest(f) {
		return digest(f)
	}
	var fields []*slackapi.TextBlockObject
	for _, fact := range alert.Facts(f) {
		fields = append(fields, markdown("*"+fact.Label+"*\n", fact.Value, fieldLimit))
	}
	if len(fields) > maxFields {
		fields = fields[:maxFields]
	}

	korean := "*" + mrkdwn(alert.MeaningKO(f), headerLimit) + "*\n"
	return titled(alert.Title(f),
		slackapi.NewSectionBlock(markdown(korean, alert.WhoKO(f)+"\n"+numbered(alert.NextStepsKO(f)), textLimit), nil, nil),
		slackapi.NewSectionBlock(markdown(alert.Summary(f)+" *Reason:* ", alert.Reason(f)+"\nWho acts: "+alert.Who(f), textLimit), fields, nil),
		slackapi.NewSectionBlock(markdown("*What to do next*\n", numbered(alert.NextSteps(f)), textLimit), nil, nil),
		slackapi.NewContextBlock("", footer(f)...),
	)
}

// digest is the Slack message for a digest alert: the header, the Korean
// block with the counts per code, the English one with the facts, the
// counts per code with their steps, the first receipts, and the links.
func digest(f alert.Failure) *slackapi.WebhookMessage {
	d := *f.Digest
	var fields []*slackapi.TextBlockObject
	for _, fact := range alert.DigestFacts(f) {
		fields = append(fields, markdown("*"+fact.Label+"*\n", fact.Value, fieldLimit))
	}
	var codesKO, codesEN []string
	for _, c := range alert.DigestCodes(d) {
		codesKO = append(codesKO, fmt.Sprintf("• %s %s: %d건", c.Guidance.Code, c.Guidance.ShortKO, c.Count))
		codesEN = append(codesEN, fmt.Sprintf("• %s %s: %d. %s", c.Guidance.Code, c.Guidance.ShortEN, c.Count, c.Guidance.StepEN))
	}
	receipts := "```\n" + mrkdwn(strings.Join(alert.DigestRows(d), "\n"), textLimit-len("*Receipts* (mgtKey, itemKey, result code)\n```\n\n```")) + "\n```"
	if rest := alert.DigestRest(d); rest != "" {
		receipts += "\n" + mrkdwn(rest, textLimit-utf8.RuneCountInString(receipts)-30)
	}
	context := []slackapi.MixedElement{}
	for _, l := range alert.Links(f) {
		context = append(context, link(l.Label, l.Value))
	}
	blocks := []slackapi.Block{
		slackapi.NewSectionBlock(markdown("*"+mrkdwn(alert.MeaningKO(f), headerLimit)+"*\n",
			alert.DigestIntroKO(d)+"\n"+strings.Join(codesKO, "\n")+"\n"+alert.WhoKO(f)+"\n"+numbered(alert.DigestStepsKO()), textLimit), nil, nil),
		slackapi.NewSectionBlock(markdown("", alert.DigestIntro(d)+"\nWho acts: "+alert.Who(f), textLimit), fields, nil),
		slackapi.NewSectionBlock(markdown("*By result code*\n", strings.Join(codesEN, "\n"), textLimit), nil, nil),
		slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, "*Receipts* (mgtKey, itemKey, result code)\n"+receipts, false, false), nil, nil),
		slackapi.NewSectionBlock(markdown("*What to do next*\n", numbered(alert.DigestSteps()), textLimit), nil, nil),
	}
	if len(context) > 0 {
		blocks = append(blocks, slackapi.NewContextBlock("", context...))
	}
	return titled(alert.Title(f), blocks...)
}

// footer is when and by whom the alert was raised, what the MID finds, and
// the links the alert carries.
func footer(f alert.Failure) []slackapi.MixedElement {
	out := []slackapi.MixedElement{markdown("", alert.Reported(f), textLimit)}
	if note := alert.MIDNote(f); note != "" {
		out = append(out, markdown("", note, textLimit))
	}
	for _, l := range alert.Links(f) {
		out = append(out, link(l.Label, l.Value))
	}
	return out
}

// link is a mrkdwn link to url labelled label, or the two as text when url
// is not an absolute web address (Slack links only those).
func link(label, url string) *slackapi.TextBlockObject {
	if (strings.HasPrefix(url, "https://") || strings.HasPrefix(url, "http://")) && len(url) < textLimit-len(label)-3 {
		return slackapi.NewTextBlockObject(slackapi.MarkdownType, "<"+mrkdwnEscaper.Replace(url)+"|"+label+">", false, false)
	}
	return markdown(label+": ", url, textLimit)
}

func numbered(steps []string) string {
	lines := make([]string, len(steps))
	for i, step := range steps {
		lines[i] = fmt.Sprintf("%d. %s", i+1, step)
	}
	return strings.Join(lines, "\n")
}

// Alarm is the Slack message for a CloudWatch alarm: the deployment's
// alarms (webhook errors, throttles, 5xx, Slack dead letters) publish to the
// alert topic too, on ALARM and on the return to OK. An alarm is the on-call
// engineer's, now; its description (template.yaml) carries the next step. A
// return to OK is rendered as resolved. Times are KST, as in every alert.
func Alarm(a events.CloudWatchAlarmSNSPayload) *slackapi.WebhookMessage {
	resolved := a.NewStateValue == "OK"
	title, korean := "ALARM: "+a.AlarmName, "*경보* · 담당: 당직 엔지니어, 지금 확인하세요. 다음 조치는 아래 설명에 있습니다."
	if resolved {
		title, korean = "RESOLVED: "+a.AlarmName, "*해제됨* · 경보가 정상(OK)으로 돌아왔습니다. 추가 조치는 필요 없습니다."
	} else if a.NewStateValue != "ALARM" {
		title = a.NewStateValue + ": " + a.AlarmName
	}
	var description *slackapi.TextBlockObject
	if a.AlarmDescription != "" && !resolved {
		description = markdown("", a.AlarmDescription, textLimit)
	} else if resolved {
		description = markdown("", "Resolved: the alarm is back to OK; no action needed. "+
			"If it was acted on, note what was done in the incident's thread.", textLimit)
	}
	fields := []*slackapi.TextBlockObject{
		markdown("*State*\n", a.OldStateValue+" → "+a.NewStateValue, fieldLimit),
		markdown("*Metric*\n", strings.TrimSpace(a.Trigger.Namespace+" "+a.Trigger.MetricName), fieldLimit),
	}
	context := []slackapi.MixedElement{markdown("", "Changed at "+kstAlarmTime(a.StateChangeTime)+" in "+a.Region, textLimit)}
	if u := alarmConsoleURL(a); u != "" {
		context = append(context, link("CloudWatch alarm", u))
	}
	return titled(title,
		slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, korean, false, false), nil, nil),
		slackapi.NewSectionBlock(description, fields, nil),
		slackapi.NewSectionBlock(markdown("*Reason*\n", a.NewStateReason, textLimit), nil, nil),
		slackapi.NewContextBlock("", context...),
	)
}

// kstAlarmTime is CloudWatch's StateChangeTime (UTC) in KST, or as it came.
func kstAlarmTime(s string) string {
	t, err := time.Parse("2006-01-02T15:04:05.000-0700", s)
	if err != nil {
		return s
	}
	return t.In(kst).Format("2006-01-02 15:04:05") + " KST"
}

var kst = time.FixedZone("KST", 9*60*60)

// alarmConsoleURL is the CloudWatch console page of the alarm, from the
// region in its ARN, or "" when the ARN says none.
func alarmConsoleURL(a events.CloudWatchAlarmSNSPayload) string {
	parts := strings.Split(a.AlarmARN, ":")
	if len(parts) < 4 || parts[3] == "" || a.AlarmName == "" {
		return ""
	}
	region := parts[3]
	return "https://" + region + ".console.aws.amazon.com/cloudwatch/home?region=" + region +
		"#alarmsV2:alarm/" + url.PathEscape(a.AlarmName)
}

// titled is a message of a header with title, then blocks. The title is also
// the message text, which notifications and screen readers show.
func titled(title string, blocks ...slackapi.Block) *slackapi.WebhookMessage {
	header := slackapi.NewHeaderBlock(slackapi.NewTextBlockObject(slackapi.PlainTextType, cut(title, headerLimit), false, false))
	return &slackapi.WebhookMessage{
		Text:   mrkdwn(title, textLimit),
		Blocks: &slackapi.Blocks{BlockSet: append([]slackapi.Block{header}, blocks...)},
	}
}

// markdown is a mrkdwn text object: markup, which is Slack formatting and
// trusted, then text, escaped and cut so that the whole fits in limit.
func markdown(markup, text string, limit int) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType,
		markup+mrkdwn(text, limit-utf8.RuneCountInString(markup)), false, false)
}

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// mrkdwn escapes the three characters Slack's mrkdwn reserves and cuts the
// result to at most limit characters, ending in "…" when it cut, never inside
// an escape.
func mrkdwn(s string, limit int) string {
	escaped := mrkdwnEscaper.Replace(s)
	if utf8.RuneCountInString(escaped) <= limit {
		return escaped
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		e := mrkdwnEscaper.Replace(string(r))
		if n += utf8.RuneCountInString(e); n > limit-1 {
			break
		}
		b.WriteString(e)
	}
	return b.String() + "…"
}

// cut shortens s to at most limit characters, ending in "…" when it cut.
func cut(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)
	return string(r[:limit-1]) + "…"
}
