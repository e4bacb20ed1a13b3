package operator

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/popbill-cashbill-webhook/receiver/internal/config"
)

// Deployment is what --stack finds: the table, the topic and the webhook's
// log group, which is the delivery archive (the stack's outputs), and the
// settings the replayed handler's rules and the outbox read (its
// parameters, and the log group, which alerts link to).
type Deployment struct {
	StateTable, ArchiveLogGroup, Topic string
	Settings                           map[string]string
}

// The stack's outputs and the parameters that become settings.
var stackSettings = map[string]string{
	"AllowedCorpNums":      config.AllowedCorpNums,
	"AllowedSourceIps":     config.AllowedSourceIPs,
	"CheckCorpNumChecksum": config.CheckCorpNumChecksum,
	"ArchiveRetentionDays": config.ArchiveRetentionDays,
	"EnvironmentName":      config.EnvironmentName,
	"BusinessNames":        config.BusinessNames,
	"AlertRunbookUrl":      config.AlertRunbookURL,
	"AlertStormThreshold":  config.AlertStormThreshold,
	"AlertStormWindow":     config.AlertStormWindow,
}

// logGroupOutput is the output naming the webhook's log group: the delivery
// archive, and ALERT_LOG_GROUP.
const logGroupOutput = "WebhookLogGroupName"

// resolveStack reads stack name's outputs and parameters. Its errors are
// for people: a missing stack is ExitNotFound, and an AWS failure names
// its error code, never the SDK's text.
func resolveStack(ctx context.Context, api CloudFormationAPI, name string) (Deployment, error) {
	out, params, err := stackOutputs(ctx, api, name)
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "ValidationError" && strings.Contains(apiErr.ErrorMessage(), "does not exist"):
		return Deployment{}, exit(ExitNotFound, "no stack %s in this account and region (AWS_REGION, AWS_PROFILE)", name)
	case errors.As(err, new(*exitError)):
		return Deployment{}, err
	case err != nil:
		return Deployment{}, exit(ExitFailed, "stack %s: %s", name, awsCause(err))
	}
	d := Deployment{StateTable: out["StateTableName"], ArchiveLogGroup: out[logGroupOutput], Topic: out["AlertTopicArn"],
		Settings: map[string]string{}}
	if d.ArchiveLogGroup == "" {
		return Deployment{}, exit(ExitFailed, "stack %s has no %s output: deploy a version whose webhook logs to its own log group", name, logGroupOutput)
	}
	if d.StateTable == "" {
		return Deployment{}, exit(ExitFailed, "stack %s has no StateTableName output: is it this receiver's stack?", name)
	}
	for param, setting := range stackSettings {
		if v, ok := params[param]; ok {
			d.Settings[setting] = v
		}
	}
	d.Settings[config.AlertLogGroup] = d.ArchiveLogGroup
	return d, nil
}
