package localinfra

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
)

// LogsAPI is the CloudWatch Logs call ProvisionLogGroup makes.
type LogsAPI interface {
	CreateLogGroup(ctx context.Context, params *cloudwatchlogs.CreateLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
}

const logGroupType = "AWS::Logs::LogGroup"

// Log group properties with no effect in an emulator (retention: moto keeps
// every line while it runs).
var skippedLogGroupProps = map[string]bool{
	"LogGroupName": true, "RetentionInDays": true, "Tags": true, "KmsKeyId": true, "LogGroupClass": true, "DataProtectionPolicy": true,
}

// ProvisionLogGroup creates the log group function fn logs to (its
// LoggingConfig's LogGroup), named "<name>-<LogicalId>", adds its name to
// st.Refs and returns it. The webhook's is the delivery archive. A group
// that exists already is kept.
func (st *Stack) ProvisionLogGroup(ctx context.Context, t *samtemplate.Template, fn, name string, api LogsAPI) (string, error) {
	cfg, _ := t.FunctionProperty(fn, "LoggingConfig")
	m, _ := cfg.(map[string]any)
	id, ok := samtemplate.Ref(m["LogGroup"])
	if !ok {
		return "", fmt.Errorf("%s: LoggingConfig.LogGroup is no !Ref to a log group of the template", fn)
	}
	r, err := t.Resource(id, logGroupType)
	if err != nil {
		return "", err
	}
	var none struct{}
	if err := decodeStrict(r.Properties, skippedLogGroupProps, &none); err != nil {
		return "", fmt.Errorf("%s: %w", id, err)
	}
	physical := name + "-" + id
	_, err = api.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(physical)})
	var exists *logtypes.ResourceAlreadyExistsException
	if err != nil && !errors.As(err, &exists) {
		return "", fmt.Errorf("%s: create log group %s: %w", id, physical, err)
	}
	st.Refs[id] = physical
	return physical, nil
}
