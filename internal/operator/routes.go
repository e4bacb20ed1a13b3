package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/popbill-cashbill-webhook/receiver/internal/awserr"
	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
)

const routesSummary = "who gets a business's alerts: routes add|list|remove, e-mail (SNS filter policies) and Slack (SLACK_ROUTES_PARAM)"

// routeUsages are the routes subcommands' usage lines.
var routeUsages = map[string]string{
	"list":   "routes list [flags]",
	"add":    "routes add [flags] --corp CORPNUM|'*' --email ADDR|--slack URL",
	"remove": "routes remove [flags] --corp CORPNUM|'*' --email ADDR|--slack",
}

const routesUsage = "routes list|add|remove [flags] --corp CORPNUM|'*' --email ADDR|--slack URL"

// filterAttribute is the SNS message attribute e-mail routes filter on
// (snsalert.Attributes).
const filterAttribute = "franchiseCorpNum"

// RoutesSNSAPI is the SNS calls routes makes on the alert topic.
type RoutesSNSAPI interface {
	Subscribe(ctx context.Context, params *sns.SubscribeInput, optFns ...func(*sns.Options)) (*sns.SubscribeOutput, error)
	Unsubscribe(ctx context.Context, params *sns.UnsubscribeInput, optFns ...func(*sns.Options)) (*sns.UnsubscribeOutput, error)
	ListSubscriptionsByTopic(ctx context.Context, params *sns.ListSubscriptionsByTopicInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	GetSubscriptionAttributes(ctx context.Context, params *sns.GetSubscriptionAttributesInput, optFns ...func(*sns.Options)) (*sns.GetSubscriptionAttributesOutput, error)
	SetSubscriptionAttributes(ctx context.Context, params *sns.SetSubscriptionAttributesInput, optFns ...func(*sns.Options)) (*sns.SetSubscriptionAttributesOutput, error)
}

// RoutesSSMAPI is the SSM calls routes makes on the Slack routes parameter.
type RoutesSSMAPI interface {
	GetParameter(ctx context.Context, params *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	PutParameter(ctx context.Context, params *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
}

// Route is one way a business's alerts reach people, as routes list shows it.
type Route struct {
	// Kind: email or slack.
	Kind string `json:"kind"`
	// CorpNum is the business, "*" for the default (Slack) or the catch-all
	// (e-mail: every business without an e-mail route of its own), "" for a
	// subscription without a filter, which gets every alert.
	CorpNum string `json:"corpNum"`
	// Target is the e-mail address, or the Slack webhook's host (never its secret path).
	Target string `json:"target"`
	// State: route, default, catch-all, all alerts, pending confirmation,
	// other filter; Stale says a catch-all's exclusions lag the routes.
	State           string `json:"state"`
	Stale           bool   `json:"stale,omitempty"`
	SubscriptionArn string `json:"subscriptionArn,omitempty"`
}

// routesSite is where routes live: the alert topic and the Slack routes parameter.
type routesSite struct {
	sns                    RoutesSNSAPI
	ssm                    RoutesSSMAPI
	topic, param, paramKey string
}

type routesFlags struct {
	Target
	param, paramKey string
	corp, email     string
	slack           string
	slackSet        bool
}

func routes(ctx context.Context, e *Env, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	if sub != "add" && sub != "list" && sub != "remove" {
		fmt.Fprintf(e.Stderr, "cashbill routes: %s\n\nUsage: cashbill %s\n(cashbill routes SUBCOMMAND --help for its flags)\n", routesSummary, routesUsage)
		if sub == "-h" || sub == "--help" || sub == "help" {
			return nil
		}
		return exit(ExitUsage, "name a subcommand: add, list or remove")
	}
	var (
		f      routesFlags
		asJSON bool
	)
	fs := e.flagSet("routes "+sub, routeUsages[sub], &f.Target, &asJSON)
	fs.StringVar(&f.param, "slack-routes-param", "", "the SSM parameter of the Slack routes (--stack: its SlackRoutesParam)")
	fs.StringVar(&f.paramKey, "parameter-key", "", "the KMS key that encrypts it (--stack: its ParameterKeyArn; default aws/ssm)")
	if sub != "list" {
		fs.StringVar(&f.corp, "corp", "", "the business number, or '*' for businesses without a route of their own")
		fs.StringVar(&f.email, "email", "", "an e-mail address: subscribed to the topic with a filter policy on "+filterAttribute)
		fs.Func("slack", "a Slack incoming webhook URL (remove: no value)", func(v string) error { f.slack, f.slackSet = v, true; return nil })
	}
	fs.Usage = helpWith(fs, routeUsages[sub], routesSummary)
	if sub == "remove" {
		// --slack takes no value on remove.
		for i, a := range args {
			if a == "--slack" || a == "-slack" {
				args[i] = "--slack="
			}
		}
	}
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fs, "routes %s takes no arguments, only flags", sub)
	}
	corp := ""
	if sub != "list" {
		if corp, err = routeCorp(f.corp); err != nil {
			return err
		}
		if (f.email == "") == !f.slackSet {
			return usageError(fs, "name one of --email ADDR and --slack")
		}
		if sub == "add" && f.slackSet && f.slack == "" {
			return usageError(fs, "--slack needs the incoming webhook URL")
		}
	}
	s, err := e.openRoutes(ctx, f)
	if err != nil {
		return err
	}
	switch {
	case sub == "list":
		return s.list(ctx, e, asJSON)
	case f.slackSet:
		return s.changeSlack(ctx, e, sub == "add", corp, f.slack)
	case sub == "add":
		return s.addEmail(ctx, e, corp, f.email)
	default:
		return s.removeEmail(ctx, e, corp, f.email)
	}
}

// routeCorp reads --corp: a business number or "*".
func routeCorp(v string) (string, error) {
	if v == config.DefaultSlackRoute {
		return v, nil
	}
	n, err := business.Normalise(v)
	if err != nil {
		return "", exit(ExitUsage, "--corp: %s; or '*' for businesses without a route", err.Error())
	}
	return n, nil
}

func (e *Env) openRoutes(ctx context.Context, f routesFlags) (*routesSite, error) {
	if f.Stack == "" {
		f.Topic = or(f.Topic, e.Getenv(config.AlertTopicARN))
		f.param = or(f.param, e.Getenv(config.SlackRoutesParam))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if f.Stack != "" {
		out, params, err := stackOutputs(ctx, cloudformation.NewFromConfig(cfg), f.Stack)
		if err != nil {
			return nil, err
		}
		f.Topic, f.param, f.paramKey = out["AlertTopicArn"], or(f.param, params["SlackRoutesParam"]), or(f.paramKey, params["ParameterKeyArn"])
	}
	if f.Topic == "" {
		return nil, exit(ExitUsage, "routes works on a deployment: name it with --stack (or --topic and --slack-routes-param)")
	}
	return &routesSite{sns: sns.NewFromConfig(cfg), ssm: ssm.NewFromConfig(cfg), topic: f.Topic, param: f.param, paramKey: f.paramKey}, nil
}

// policy is an e-mail route's filter policy: the one business.
func routePolicy(corp string) string {
	b, _ := json.Marshal(map[string][]string{filterAttribute: {corp}})
	return string(b)
}

// catchAllPolicy lets through every alert of a business without an e-mail
// route of its own, and every message without the attribute (CloudWatch
// alarms). With no routes, anything-but noRoute still matches every
// business, so that the policy keeps its shape and the tool knows the subscription.
func catchAllPolicy(routed []string) string {
	if len(routed) == 0 {
		routed = []string{noRoute}
	}
	// exists:false first: moto stops at an anything-but whose attribute is
	// absent, where SNS goes on to the next rule; the order means nothing to SNS.
	b, _ := json.Marshal(map[string][]any{filterAttribute: {map[string]any{"exists": false}, map[string]any{"anything-but": routed}}})
	return string(b)
}

// noRoute is what a catch-all excludes while no business has a route: no
// business number is "-".
const noRoute = "-"

// subscription is one subscription of the topic and what its policy says.
type subscription struct {
	arn, protocol, endpoint string
	pending                 bool
	// corp: the business of a route; "*" a catch-all; "" no filter; "?" another filter.
	corp     string
	excludes []string
}

func (s *routesSite) subscriptions(ctx context.Context) ([]subscription, error) {
	var out []subscription
	p := sns.NewListSubscriptionsByTopicPaginator(s.sns, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(s.topic)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the topic's subscriptions: %s", awserr.Cause(err))
		}
		for _, sub := range page.Subscriptions {
			x := subscription{arn: aws.ToString(sub.SubscriptionArn), protocol: aws.ToString(sub.Protocol), endpoint: aws.ToString(sub.Endpoint)}
			if !strings.HasPrefix(x.arn, "arn:") {
				x.pending = true
				out = append(out, x)
				continue
			}
			attrs, err := s.sns.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn})
			if err != nil {
				return nil, fmt.Errorf("read subscription %s: %s", x.arn, awserr.Cause(err))
			}
			x.corp, x.excludes = readPolicy(attrs.Attributes["FilterPolicy"])
			out = append(out, x)
		}
	}
	return out, nil
}

// readPolicy says what a filter policy routes: one business, the catch-all
// (and what it excludes), everything ("") or something else ("?").
func readPolicy(p string) (string, []string) {
	if strings.TrimSpace(p) == "" || strings.TrimSpace(p) == "{}" {
		return "", nil
	}
	var m map[string][]json.RawMessage
	if json.Unmarshal([]byte(p), &m) != nil || len(m) != 1 || len(m[filterAttribute]) == 0 {
		return "?", nil
	}
	rules := m[filterAttribute]
	var one string
	if len(rules) == 1 && json.Unmarshal(rules[0], &one) == nil && cashbill.IsBusinessNumber(one) {
		return one, nil
	}
	var but struct {
		AnythingBut []string `json:"anything-but"`
	}
	for _, r := range rules {
		if len(rules) == 2 && json.Unmarshal(r, &but) == nil && but.AnythingBut != nil {
			return "*", slices.DeleteFunc(but.AnythingBut, func(s string) bool { return s == noRoute })
		}
	}
	return "?", nil
}

// routed is the businesses with an e-mail route among subs (a queue or a
// function filtered on one business is none: the catch-all is for e-mail).
func routed(subs []subscription) []string {
	var out []string
	for _, s := range subs {
		if isEmail(s.protocol) && cashbill.IsBusinessNumber(s.corp) && !slices.Contains(out, s.corp) {
			out = append(out, s.corp)
		}
	}
	sort.Strings(out)
	return out
}

func isEmail(protocol string) bool { return protocol == "email" || protocol == "email-json" }

// reconcile sets every catch-all's exclusions to the routed businesses.
func (s *routesSite) reconcile(ctx context.Context) (int, error) {
	subs, err := s.subscriptions(ctx)
	if err != nil {
		return 0, err
	}
	want := routed(subs)
	n := 0
	for _, sub := range subs {
		if !isEmail(sub.protocol) || sub.corp != "*" || slices.Equal(sub.excludes, want) {
			continue
		}
		if _, err := s.sns.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(sub.arn),
			AttributeName: aws.String("FilterPolicy"), AttributeValue: aws.String(catchAllPolicy(want))}); err != nil {
			return n, fmt.Errorf("update the catch-all %s: %s", sub.endpoint, awserr.Cause(err))
		}
		n++
	}
	return n, nil
}

func (s *routesSite) addEmail(ctx context.Context, e *Env, corp, addr string) error {
	policy := routePolicy(corp)
	if corp == "*" {
		subs, err := s.subscriptions(ctx)
		if err != nil {
			return exit(ExitFailed, "%s", err.Error())
		}
		policy = catchAllPolicy(routed(subs))
	}
	_, err := s.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(s.topic), Protocol: aws.String("email"), Endpoint: aws.String(addr),
		ReturnSubscriptionArn: true,
		Attributes:            map[string]string{"FilterPolicy": policy, "FilterPolicyScope": "MessageAttributes"}})
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "InvalidParameter" {
		return exit(ExitFailed, "SNS refused the subscription of %s (%s): is the address already subscribed with another route? routes list shows it; remove that one first", addr, api.ErrorCode())
	}
	if err != nil {
		return exit(ExitFailed, "subscribe %s: %s", addr, awserr.Cause(err))
	}
	updated, err := s.reconcile(ctx)
	if err != nil {
		return exit(ExitFailed, "%s (the route itself was added)", err.Error())
	}
	who := "business " + cashbill.FormatBusinessNumber(corp)
	if corp == "*" {
		who = "every business without an e-mail route of its own (and the alarms)"
	}
	fmt.Fprintf(e.Stdout, "%s now gets the alerts of %s, once it confirms the subscription mail from AWS.\n", addr, who)
	if updated > 0 {
		fmt.Fprintf(e.Stdout, "%d catch-all subscription(s) now leave out the routed businesses.\n", updated)
	}
	return nil
}

func (s *routesSite) removeEmail(ctx context.Context, e *Env, corp, addr string) error {
	subs, err := s.subscriptions(ctx)
	if err != nil {
		return exit(ExitFailed, "%s", err.Error())
	}
	removed := 0
	for _, sub := range subs {
		if !strings.EqualFold(sub.endpoint, addr) || sub.corp != corp {
			continue
		}
		if _, err := s.sns.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(sub.arn)}); err != nil {
			return exit(ExitFailed, "unsubscribe %s: %s", addr, awserr.Cause(err))
		}
		removed++
	}
	if removed == 0 {
		for _, sub := range subs {
			if sub.pending && strings.EqualFold(sub.endpoint, addr) {
				return exit(ExitNotFound, "%s has not confirmed its subscription yet, and SNS lets no one remove it before: it lapses after 3 days unconfirmed", addr)
			}
		}
		return exit(ExitNotFound, "%s has no e-mail route for %s: routes list shows the routes", addr, corp)
	}
	if _, err := s.reconcile(ctx); err != nil {
		return exit(ExitFailed, "%s (the route itself was removed)", err.Error())
	}
	fmt.Fprintf(e.Stdout, "%s no longer gets the alerts of %s by this route.\n", addr, corp)
	return nil
}

// slackRoutes reads the Slack routes parameter; a parameter not yet created is no routes.
func (s *routesSite) slackRoutes(ctx context.Context) (map[string]string, error) {
	if s.param == "" {
		return nil, exit(ExitUsage, "the stack has no SlackRoutesParam: deploy it with one (for example /popbill-webhook/slack-routes), or name it with --slack-routes-param")
	}
	out, err := s.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.param), WithDecryption: aws.Bool(true)})
	var nf *ssmtypes.ParameterNotFound
	if errors.As(err, &nf) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, exit(ExitFailed, "read SSM parameter %s: %s", s.param, awserr.Cause(err))
	}
	routes, err := config.ParseSlackRoutes(aws.ToString(out.Parameter.Value))
	if err != nil {
		return nil, exit(ExitFailed, "SSM parameter %s: %s", s.param, err.Error())
	}
	return routes, nil
}

func (s *routesSite) changeSlack(ctx context.Context, e *Env, add bool, corp, hook string) error {
	routes, err := s.slackRoutes(ctx)
	if err != nil {
		return err
	}
	if add {
		routes[corp] = strings.TrimSpace(hook)
	} else if _, ok := routes[corp]; !ok {
		return exit(ExitNotFound, "%s has no Slack route", corp)
	} else {
		delete(routes, corp)
	}
	b, _ := json.Marshal(routes)
	if _, err := config.ParseSlackRoutes(string(b)); err != nil {
		return exit(ExitUsage, "--slack: %s", err.Error())
	}
	in := &ssm.PutParameterInput{Name: aws.String(s.param), Value: aws.String(string(b)), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}
	if s.paramKey != "" {
		in.KeyId = aws.String(s.paramKey)
	}
	if _, err := s.ssm.PutParameter(ctx, in); err != nil {
		return exit(ExitFailed, "write SSM parameter %s: %s", s.param, awserr.Cause(err))
	}
	verb := "now go to the channel of " + maskHook(hook)
	if !add {
		verb = "now go to the default channel"
	}
	who := "Alerts of business " + cashbill.FormatBusinessNumber(corp)
	if corp == "*" {
		who = "Alerts of businesses without a route of their own"
	}
	fmt.Fprintf(e.Stdout, "%s %s, from the Slack notifier's next cold start (a deploy starts one at once).\n", who, verb)
	return nil
}

// maskHook shows a webhook URL's host only: its path is the secret.
func maskHook(hook string) string {
	u, err := url.Parse(hook)
	if err != nil || u.Host == "" {
		return "(a webhook)"
	}
	return u.Host + "/…"
}

func (s *routesSite) list(ctx context.Context, e *Env, asJSON bool) error {
	var out []Route
	if s.param != "" {
		routes, err := s.slackRoutes(ctx)
		if err != nil {
			return err
		}
		for corp, hook := range routes {
			state := "route"
			if corp == "*" {
				state = "default"
			}
			out = append(out, Route{Kind: "slack", CorpNum: corp, Target: maskHook(hook), State: state})
		}
	}
	subs, err := s.subscriptions(ctx)
	if err != nil {
		return exit(ExitFailed, "%s", err.Error())
	}
	want := routed(subs)
	for _, sub := range subs {
		r := Route{Kind: sub.protocol, CorpNum: sub.corp, Target: sub.endpoint, SubscriptionArn: sub.arn}
		switch {
		case sub.pending:
			r.State, r.SubscriptionArn = "pending confirmation", ""
		case sub.corp == "*":
			r.State, r.Stale = "catch-all", !slices.Equal(sub.excludes, want)
		case sub.corp == "":
			r.State = "all alerts"
		case sub.corp == "?":
			r.State, r.CorpNum = "other filter", ""
		default:
			r.State = "route"
		}
		if sub.protocol == "lambda" || sub.protocol == "sqs" {
			r.Target = sub.protocol + " " + sub.endpoint[strings.LastIndex(sub.endpoint, ":")+1:]
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Route) int {
		if c := strings.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return strings.Compare(a.CorpNum+a.Target, b.CorpNum+b.Target)
	})
	if asJSON {
		if out == nil {
			out = []Route{}
		}
		return writeJSON(e.Stdout, out)
	}
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tBUSINESS\tTO\tSTATE")
	for _, r := range out {
		corp := cashbill.FormatBusinessNumber(r.CorpNum)
		switch r.CorpNum {
		case "*":
			corp = "* (the rest)"
		case "":
			corp = "-"
		}
		state := r.State
		if r.Stale {
			state += " (stale: routes add or remove updates it)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Kind, corp, r.Target, state)
	}
	return tw.Flush()
}
