package operator

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
)

// fakeCloudFormation implements CloudFormationAPI with a function field.
type fakeCloudFormation struct {
	describeStacks func(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

func (f fakeCloudFormation) DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	return f.describeStacks(ctx, in, opts...)
}

func stack(outputs, params map[string]string) cfntypes.Stack {
	var s cfntypes.Stack
	for k, v := range outputs {
		s.Outputs = append(s.Outputs, cfntypes.Output{OutputKey: aws.String(k), OutputValue: aws.String(v)})
	}
	for k, v := range params {
		s.Parameters = append(s.Parameters, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	return s
}

func TestStackResolution(t *testing.T) {
	outputs := map[string]string{
		"StateTableName": "popbill-state", "WebhookLogGroupName": "/aws/lambda/popbill-webhook",
		"AlertTopicArn": "arn:aws:sns:ap-northeast-2:123456789012:popbill-alerts", "WebhookUrl": "https://x/pbconnect",
	}
	params := map[string]string{
		"AllowedSourceIps": "54.180.62.221/32,13.124.72.158/32", "AllowedCorpNums": "6798700433",
		"CheckCorpNumChecksum": "true", "ArchiveRetentionDays": "30", "EnvironmentName": "prod",
	}
	without := func(m map[string]string, key string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			if k != key {
				out[k] = v
			}
		}
		return out
	}
	answer := func(out *cloudformation.DescribeStacksOutput, err error) fakeCloudFormation {
		return fakeCloudFormation{func(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
			if aws.ToString(in.StackName) != "popbill-webhook" {
				t.Errorf("described stack %q, want popbill-webhook", aws.ToString(in.StackName))
			}
			return out, err
		}}
	}
	found := func(s cfntypes.Stack) fakeCloudFormation {
		return answer(&cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{s}}, nil)
	}
	secretText := "operation error CloudFormation: DescribeStacks, https response error StatusCode: 403, RequestID: 1234, api error AccessDenied: User: arn:aws:iam::123456789012:user/kim is not authorized"

	for _, c := range []struct {
		name     string
		api      fakeCloudFormation
		want     Deployment
		wantCode int
		wantMsg  string
	}{
		{name: "outputs name the tables and topic, parameters the allowlists and retention",
			api: found(stack(outputs, params)),
			want: Deployment{StateTable: "popbill-state", ArchiveLogGroup: "/aws/lambda/popbill-webhook", Topic: outputs["AlertTopicArn"],
				Settings: map[string]string{config.AllowedSourceIPs: params["AllowedSourceIps"], config.AllowedCorpNums: "6798700433",
					config.CheckCorpNumChecksum: "true", config.ArchiveRetentionDays: "30", config.EnvironmentName: "prod",
					config.AlertLogGroup: "/aws/lambda/popbill-webhook"}}},
		{name: "a stack without the webhook's log group (the archive) says to deploy a newer version",
			api: found(stack(without(outputs, "WebhookLogGroupName"), params)), wantCode: ExitFailed, wantMsg: "WebhookLogGroupName"},
		{name: "a stack without the state table output is not taken for a usage error",
			api: found(stack(without(outputs, "StateTableName"), params)), wantCode: ExitFailed, wantMsg: "StateTableName"},
		{name: "no such stack is not found, in plain words",
			api:      answer(nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id popbill-webhook does not exist"}),
			wantCode: ExitNotFound, wantMsg: "no stack popbill-webhook"},
		{name: "an empty answer is not found",
			api: answer(&cloudformation.DescribeStacksOutput{}, nil), wantCode: ExitNotFound, wantMsg: "no stack popbill-webhook"},
		{name: "an AWS failure names its code, not the SDK's text",
			api:      answer(nil, &smithy.OperationError{ServiceID: "CloudFormation", OperationName: "DescribeStacks", Err: &smithy.GenericAPIError{Code: "AccessDenied", Message: secretText}}),
			wantCode: ExitFailed, wantMsg: "AccessDenied"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := resolveStack(context.Background(), c.api, "popbill-webhook")
			if c.wantCode == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if got.StateTable != c.want.StateTable || got.ArchiveLogGroup != c.want.ArchiveLogGroup || got.Topic != c.want.Topic {
					t.Errorf("tables and topic = %+v, want %+v", got, c.want)
				}
				for k, v := range c.want.Settings {
					if got.Settings[k] != v {
						t.Errorf("setting %s = %q, want %q", k, got.Settings[k], v)
					}
				}
				if len(got.Settings) != len(c.want.Settings) {
					t.Errorf("settings %v, want only %v", got.Settings, c.want.Settings)
				}
				return
			}
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != c.wantCode || !strings.Contains(ee.msg, c.wantMsg) {
				t.Fatalf("err = %v, want exit %d saying %q", err, c.wantCode, c.wantMsg)
			}
			if strings.Contains(ee.msg, "not authorized") || strings.Contains(ee.msg, "RequestID") {
				t.Errorf("the message repeats the SDK's text: %q", ee.msg)
			}
		})
	}
}
