//go:build integration

package deploytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert/snsalert"
	"github.com/popbill-cashbill-webhook/receiver/internal/business/dynamobusiness"
	"github.com/popbill-cashbill-webhook/receiver/internal/config"
	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
	"github.com/popbill-cashbill-webhook/receiver/internal/slacknotify/ledger"
	"github.com/popbill-cashbill-webhook/receiver/internal/state/dynamostore"
	"github.com/popbill-cashbill-webhook/receiver/internal/statechange/forwarder"
	"github.com/popbill-cashbill-webhook/receiver/internal/testkit/modroot"
	"github.com/popbill-cashbill-webhook/receiver/internal/webhook"
)

// The functions template.yaml deploys, and what their code reads.
var functions = []struct {
	id string
	// env is every variable the deployed function reads; localOnly are
	// those it reads only on a workstation. The template declares those with
	// an empty value, which means "not set", so that sam local invoke can set
	// them from events/env.json; a value there would reach the deployed
	// function (and a Lambda environment is visible in the console).
	env, localOnly []string
}{
	{id: "WebhookFunction", env: webhookVariables(false), localOnly: append(webhookVariables(true), sdkEndpoint)},
	{id: "SlackNotifierFunction", env: []string{config.SlackWebhookParam, config.SlackLedgerTable, config.SlackRoutesParam}, localOnly: []string{config.SlackWebhookURL, sdkEndpoint}},
	{id: "SweeperFunction", env: names(config.SweeperVariables), localOnly: []string{sdkEndpoint}},
	{id: "EventForwarderFunction", env: []string{config.EventBusName}, localOnly: []string{sdkEndpoint}},
}

func names(vars []config.Variable) []string {
	var out []string
	for _, v := range vars {
		out = append(out, v.Name)
	}
	return out
}

// sdkEndpoint is the AWS SDK's own variable that points every client at an
// emulator; empty, it is ignored.
const sdkEndpoint = "AWS_ENDPOINT_URL"

func webhookVariables(localOnly bool) []string {
	var names []string
	for _, v := range config.Variables {
		if v.LocalOnly == localOnly {
			names = append(names, v.Name)
		}
	}
	return names
}

func TestFunctionEnvironmentIsWhatTheCodeReads(t *testing.T) {
	tmpl := loadTemplate(t)
	for _, fn := range functions {
		t.Run(fn.id, func(t *testing.T) {
			vars, err := tmpl.Environment(fn.id)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := sortedKeys(vars), sorted(append(slices.Clone(fn.env), fn.localOnly...)); !slices.Equal(got, want) {
				t.Errorf("template environment = %v, want exactly %v", got, want)
			}
			for _, name := range fn.localOnly {
				if v := vars[name]; v != "" {
					t.Errorf("%s is for local runs only: the template must declare it empty, not %v", name, v)
				}
			}
		})
	}
}

// TestEnvJSONMatchesTemplate keeps events/env.json (sam local invoke
// --env-vars) in step: SAM ignores variables the template does not declare.
func TestEnvJSONMatchesTemplate(t *testing.T) {
	tmpl := loadTemplate(t)
	raw, err := os.ReadFile(filepath.Join(modroot.Dir(t), "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var envs map[string]map[string]string
	if err := json.Unmarshal(raw, &envs); err != nil {
		t.Fatalf("events/env.json: %v", err)
	}
	ids := tmpl.ResourcesOfType(samtemplate.FunctionType)
	if got := sortedKeys(envs); !slices.Equal(got, ids) {
		t.Errorf("events/env.json has functions %v, template.yaml has %v", got, ids)
	}
	for _, id := range ids {
		vars, err := tmpl.Environment(id)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := sortedKeys(envs[id]), sortedKeys(vars); !slices.Equal(got, want) {
			t.Errorf("events/env.json %s has %v, the template declares %v", id, got, want)
		}
	}
}

func TestStateTableKeyIsWhatTheStoreWrites(t *testing.T) {
	tmpl := loadTemplate(t)
	table, err := tmpl.Resource("StateTable", "AWS::DynamoDB::Table")
	if err != nil {
		t.Fatal(err)
	}
	p := table.Properties
	wantKey := []any{map[string]any{"AttributeName": dynamostore.KeyAttribute, "KeyType": "HASH"}}
	if !reflect.DeepEqual(p["KeySchema"], wantKey) {
		t.Errorf("KeySchema = %v, want %v: dynamostore writes one item per %s", p["KeySchema"], wantKey, dynamostore.KeyAttribute)
	}
	// Only key attributes may be declared: the table's and the due index's.
	wantAttrs := []any{
		map[string]any{"AttributeName": dynamostore.KeyAttribute, "AttributeType": "S"},
		map[string]any{"AttributeName": dynamostore.DueQueueAttribute, "AttributeType": "S"},
		map[string]any{"AttributeName": dynamostore.DueAtAttribute, "AttributeType": "N"},
	}
	if !reflect.DeepEqual(p["AttributeDefinitions"], wantAttrs) {
		t.Errorf("AttributeDefinitions = %v, want %v", p["AttributeDefinitions"], wantAttrs)
	}
	dueKeys := []any{
		map[string]any{"AttributeName": dynamostore.DueQueueAttribute, "KeyType": "HASH"},
		map[string]any{"AttributeName": dynamostore.DueAtAttribute, "KeyType": "RANGE"},
	}
	wantIndexes := []any{
		map[string]any{
			"IndexName": dynamostore.DueIndex,
			"KeySchema": dueKeys,
			// Keys only: dynamostore reads the items it finds (BatchGetAPI).
			"Projection": map[string]any{"ProjectionType": "KEYS_ONLY"},
		},
		// The previous index, under another name, only while KeepPreviousDueIndex
		// is true: the first of the two deploys that update an older stack.
		map[string]any{"Fn::If": []any{
			"KeepsPreviousDueIndex",
			map[string]any{"IndexName": "due", "KeySchema": dueKeys, "Projection": map[string]any{"ProjectionType": "ALL"}},
			map[string]any{"Ref": "AWS::NoValue"},
		}},
	}
	if !reflect.DeepEqual(p["GlobalSecondaryIndexes"], wantIndexes) {
		t.Errorf("GlobalSecondaryIndexes = %v, want the sweeper's due index %v", p["GlobalSecondaryIndexes"], wantIndexes)
	}
	if p["BillingMode"] != "PAY_PER_REQUEST" {
		t.Errorf("BillingMode = %v, want PAY_PER_REQUEST", p["BillingMode"])
	}
	pitr, _ := p["PointInTimeRecoverySpecification"].(map[string]any)
	if pitr["PointInTimeRecoveryEnabled"] != true {
		t.Error("point-in-time recovery is off")
	}
	sse, _ := p["SSESpecification"].(map[string]any)
	if sse["SSEEnabled"] != true {
		t.Error("server-side encryption with KMS is off")
	}
}

// grant is one action on one resource, the resource as written in the template.
type grant struct{ action, resource string }

func (g grant) String() string { return g.action + " on " + g.resource }

// callsOf returns service:Method for each method of the interface T: the AWS
// actions a port that copies SDK signatures can call.
func callsOf[T any](service string) []string {
	typ := reflect.TypeFor[T]()
	var actions []string
	for i := range typ.NumMethod() {
		actions = append(actions, service+":"+typ.Method(i).Name)
	}
	return actions
}

func grants(actions []string, resource any) []grant {
	var gs []grant
	for _, a := range actions {
		gs = append(gs, grant{a, canonical(resource)})
	}
	return gs
}

func ref(name string) any { return map[string]any{"Ref": name} }

func getAtt(resource, attribute string) any {
	return map[string]any{"Fn::GetAtt": []any{resource, attribute}}
}

func parameterARN(param string) any {
	return map[string]any{"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${" + param + "}"}
}

// TestFunctionPoliciesAreExactlyTheCallsTheCodeMakes derives each function's
// actions from the SDK interfaces its code calls through, so that a new call
// without a permission (or a permission the code no longer needs) fails here
// rather than in production.
func TestFunctionPoliciesAreExactlyTheCallsTheCodeMakes(t *testing.T) {
	// Calls the code does not make itself but the services make on its
	// behalf, each on one key only.
	var (
		// Publishing to a topic encrypted with a customer-managed key needs
		// both (the SNS SSE documentation, "publisher permissions").
		alertKey = grants([]string{"kms:Decrypt", "kms:GenerateDataKey"}, getAtt("AlertKey", "Arn"))
		// GetParameter WithDecryption on a SecureString encrypted with a
		// customer-managed key; the default aws/ssm key needs no grant.
		parameterKey = grants([]string{"kms:Decrypt"}, ref("ParameterKeyArn"))
	)
	cases := []struct {
		id   string
		want [][]grant
	}{
		{"WebhookFunction", [][]grant{
			grants(callsOf[dynamostore.API]("dynamodb"), getAtt("StateTable", "Arn")),
			grants(callsOf[dynamobusiness.LookupAPI]("dynamodb"), getAtt("BusinessTokenTable", "Arn")),
			grants(callsOf[snsalert.API]("sns"), ref("AlertTopic")),
			grants(callsOf[config.SSMAPI]("ssm"), parameterARN("AuthCredentialParam")),
			grants(callsOf[config.SSMAPI]("ssm"), parameterARN("AuthCredentialNextParam")),
			alertKey, parameterKey,
		}},
		{"SlackNotifierFunction", [][]grant{
			grants(callsOf[config.SSMAPI]("ssm"), parameterARN("SlackWebhookParam")),
			grants(callsOf[config.SSMAPI]("ssm"), parameterARN("SlackRoutesParam")),
			grants(callsOf[ledger.API]("dynamodb"), getAtt("SlackLedgerTable", "Arn")),
			parameterKey,
		}},
		{"SweeperFunction", [][]grant{
			grants(callsOf[dynamostore.API]("dynamodb"), getAtt("StateTable", "Arn")),
			grants(callsOf[dynamostore.BatchGetAPI]("dynamodb"), getAtt("StateTable", "Arn")),
			grants(callsOf[dynamostore.QueryAPI]("dynamodb"), map[string]any{"Fn::Sub": "${StateTable.Arn}/index/" + dynamostore.DueIndex}),
			grants(callsOf[snsalert.API]("sns"), ref("AlertTopic")),
			alertKey,
		}},
		{"EventForwarderFunction", [][]grant{
			grants(callsOf[forwarder.API]("events"), getAtt("EventBus", "Arn")),
			// Lambda's stream poller reads the stream, and parks the batches
			// it gives up on in the dead-letter queue, with the function's role.
			// (Lambda's list for a DynamoDB stream, on this stream only.)
			grants([]string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}, getAtt("StateTable", "StreamArn")),
			grants([]string{"sqs:SendMessage"}, getAtt("EventsDeadLetterQueue", "Arn")),
		}},
	}
	tmpl := loadTemplate(t)
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			if _, ok := tmpl.FunctionProperty(c.id, "Role"); ok {
				t.Fatal("the function names its own Role, which this test cannot check: use Policies")
			}
			got := policyGrants(t, tmpl, c.id)
			want := map[grant]bool{}
			for _, gs := range c.want {
				for _, g := range gs {
					want[g] = true
				}
			}
			for g := range got {
				if !want[g] {
					t.Errorf("policy allows %s, which the code does not need", g)
				}
			}
			for g := range want {
				if !got[g] {
					t.Errorf("policy lacks %s, which the code calls", g)
				}
			}
		})
	}
}

// policyGrants reads the function's Policies: inline statements only, no SAM
// policy templates (DynamoDBCrudPolicy grants far more than two calls), no
// managed policies, no wildcards.
func policyGrants(t *testing.T, tmpl *samtemplate.Template, id string) map[grant]bool {
	t.Helper()
	raw, _ := tmpl.FunctionProperty(id, "Policies")
	policies, ok := raw.([]any)
	if !ok {
		t.Fatalf("Policies is %v, want a list of inline policy documents", raw)
	}
	got := map[grant]bool{}
	for _, p := range policies {
		doc, ok := p.(map[string]any)
		statements, isList := doc["Statement"].([]any)
		if !ok || !isList {
			t.Errorf("policy %v is not an inline document with a Statement list (no managed policies or SAM policy templates)", canonical(p))
			continue
		}
		for _, s := range statements {
			stmt := unwrapIf(t, s)
			if stmt == nil {
				continue
			}
			if stmt["Effect"] != "Allow" {
				t.Errorf("statement %v: only Allow statements are expected", canonical(stmt))
			}
			if _, ok := stmt["NotAction"]; ok {
				t.Errorf("statement %v uses NotAction", canonical(stmt))
			}
			if _, ok := stmt["NotResource"]; ok {
				t.Errorf("statement %v uses NotResource", canonical(stmt))
			}
			resource := stmt["Resource"]
			if strings.Contains(canonical(resource), "*") {
				t.Errorf("statement %v has a wildcard resource", canonical(stmt))
			}
			for _, a := range stringList(stmt["Action"]) {
				if strings.Contains(a, "*") {
					t.Errorf("statement %v has a wildcard action %q", canonical(stmt), a)
				}
				got[grant{a, canonical(resource)}] = true
			}
		}
	}
	return got
}

// unwrapIf returns the statement inside {"Fn::If": [cond, statement, AWS::NoValue]},
// or the statement itself; nil for AWS::NoValue.
func unwrapIf(t *testing.T, s any) map[string]any {
	t.Helper()
	if name, arg, ok := intrinsic(s); ok {
		args, _ := arg.([]any)
		if name != "Fn::If" || len(args) != 3 {
			t.Errorf("statement %v: only Fn::If [condition, statement, AWS::NoValue] is understood", canonical(s))
			return nil
		}
		if r, _ := samtemplate.Ref(args[2]); r != "AWS::NoValue" {
			t.Errorf("statement %v: the false branch must be AWS::NoValue", canonical(s))
		}
		s = args[1]
	}
	if r, ok := samtemplate.Ref(s); ok && r == "AWS::NoValue" {
		return nil
	}
	m, ok := s.(map[string]any)
	if !ok {
		t.Errorf("statement %v is not a mapping", canonical(s))
	}
	return m
}

// intrinsic returns the function name and argument of a one-key mapping that
// is an intrinsic function or a condition reference ({"Fn::If": [...]},
// {"Ref": x}, {"Condition": c}).
func intrinsic(v any) (name string, arg any, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, a, true
		}
	}
	return "", nil, false
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// buildTarget matches a Makefile rule such as "build-WebhookFunction:".
var buildTarget = regexp.MustCompile(`(?m)^build-([A-Za-z0-9]+):`)

// TestFunctionsAreBuiltByTheMakefile checks what SAM needs to call
// `make build-<LogicalId>` and run the result on provided.al2023/arm64.
func TestFunctionsAreBuiltByTheMakefile(t *testing.T) {
	tmpl := loadTemplate(t)
	makefile, err := os.ReadFile(filepath.Join(modroot.Dir(t), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range buildTarget.FindAllStringSubmatch(string(makefile), -1) {
		targets[m[1]] = true
	}
	for _, id := range tmpl.ResourcesOfType(samtemplate.FunctionType) {
		t.Run(id, func(t *testing.T) {
			fn := tmpl.Resources[id]
			if fn.Metadata["BuildMethod"] != "makefile" {
				t.Errorf("Metadata.BuildMethod = %v, want makefile", fn.Metadata["BuildMethod"])
			}
			if !targets[id] {
				t.Errorf("the Makefile has no build-%s target", id)
			}
			for prop, want := range map[string]any{
				"CodeUri": ".", "Runtime": "provided.al2023", "Handler": "bootstrap", "Architectures": []any{"arm64"},
			} {
				if got, _ := tmpl.FunctionProperty(id, prop); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v", prop, got, want)
				}
			}
		})
	}
}

func canonical(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// TestSlackLedgerTableIsWhatTheLedgerWrites keeps the notifier's ledger table
// keyed and expiring on the attributes ledger.Dynamo writes.
func TestSlackLedgerTableIsWhatTheLedgerWrites(t *testing.T) {
	table, err := loadTemplate(t).Resource("SlackLedgerTable", "AWS::DynamoDB::Table")
	if err != nil {
		t.Fatal(err)
	}
	p := table.Properties
	if want := []any{map[string]any{"AttributeName": ledger.KeyAttribute, "KeyType": "HASH"}}; !reflect.DeepEqual(p["KeySchema"], want) {
		t.Errorf("KeySchema = %v, want %v", p["KeySchema"], want)
	}
	if want := map[string]any{"AttributeName": ledger.ExpiresAttribute, "Enabled": true}; !reflect.DeepEqual(p["TimeToLiveSpecification"], want) {
		t.Errorf("TimeToLiveSpecification = %v, want %v: entries would never expire", p["TimeToLiveSpecification"], want)
	}
}

// buildPackage matches the package a build-<LogicalId> rule builds, such as
// "./functions/webhook" at the end of its recipe line.
var buildPackage = regexp.MustCompile(`(?m)^build-([A-Za-z0-9]+):\n\t.* \./functions/([a-z0-9-]+)\s*$`)

// TestFunctionsFolderHoldsExactlyTheDeployedLambdas: every folder under
// functions/ is built by the build-<LogicalId> rule of a function that
// template.yaml deploys, and every such function is built from one of them;
// the other programs live under cmd/.
func TestFunctionsFolderHoldsExactlyTheDeployedLambdas(t *testing.T) {
	root := modroot.Dir(t)
	tmpl := loadTemplate(t)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	builtFrom := map[string]string{} // LogicalId -> folder under functions/
	for _, m := range buildPackage.FindAllStringSubmatch(string(makefile), -1) {
		builtFrom[m[1]] = m[2]
	}
	deployed := map[string]bool{}
	for _, id := range tmpl.ResourcesOfType(samtemplate.FunctionType) {
		dir, ok := builtFrom[id]
		if !ok {
			t.Errorf("%s: the Makefile's build-%s does not build a folder under functions/", id, id)
			continue
		}
		deployed[dir] = true
	}
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
		if !e.IsDir() {
			t.Errorf("functions/%s is not a folder: functions/ holds one folder per Lambda", e.Name())
		} else if !deployed[e.Name()] {
			t.Errorf("functions/%s is not a Lambda that template.yaml deploys: move it under cmd/", e.Name())
		} else if _, err := os.Stat(filepath.Join(root, "functions", e.Name(), "main.go")); err != nil {
			t.Errorf("functions/%s has no main.go", e.Name())
		}
	}
	if len(got) != len(deployed) {
		t.Errorf("functions/ holds %v; template.yaml deploys %d functions", got, len(deployed))
	}
}

// TestBusinessTokenTableIsWhatTheTokenStoreWrites keeps the token table keyed
// on the attribute dynamobusiness writes, and the Individual Webhook route
// beside the Common one.
func TestBusinessTokenTableIsWhatTheTokenStoreWrites(t *testing.T) {
	tmpl := loadTemplate(t)
	table, err := tmpl.Resource("BusinessTokenTable", "AWS::DynamoDB::Table")
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{map[string]any{"AttributeName": dynamobusiness.KeyAttribute, "KeyType": "HASH"}}; !reflect.DeepEqual(table.Properties["KeySchema"], want) {
		t.Errorf("KeySchema = %v, want %v", table.Properties["KeySchema"], want)
	}
	events, _ := tmpl.FunctionProperty("WebhookFunction", "Events")
	paths := map[string]bool{}
	for _, e := range events.(map[string]any) {
		props, _ := e.(map[string]any)["Properties"].(map[string]any)
		if p, ok := props["Path"].(string); ok && props["Method"] == "POST" {
			paths[p] = true
		}
	}
	for _, p := range []string{"/pbconnect", "/pbconnect/{" + webhook.TokenParameter + "}"} {
		if !paths[p] {
			t.Errorf("WebhookFunction has no POST %s route (routes: %v)", p, paths)
		}
	}
}
