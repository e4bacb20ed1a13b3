package config

import (
	"fmt"
	"strings"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
)

// The settings of what every alert shows beside the cashbill (package
// alert's Presentation); the webhook and the sweeper both publish alerts,
// so both read them.
const (
	EnvironmentName = "ENVIRONMENT_NAME"
	BusinessNames   = "BUSINESS_NAMES"
	AlertRunbookURL = "ALERT_RUNBOOK_URL"
	AlertLogGroup   = "ALERT_LOG_GROUP"
	// awsRegion is set by Lambda itself (and read by the SDK locally); it is
	// not part of the contract, only the logs link's region.
	awsRegion = "AWS_REGION"
)

// PresentationVariables are the settings ReadPresentation reads.
var PresentationVariables = []Variable{
	{Name: EnvironmentName, Doc: "The deployment's name (`dev`, `prod`), shown first in every alert's Subject and Slack header as `[prod]`. Empty: none shown."},
	{Name: BusinessNames, Doc: "Optional display names of businesses, `6798700433=가나다상사,1234567890=...`, shown beside the business number in alerts."},
	{Name: AlertRunbookURL, Doc: "Address of docs/alerts.md, linked from every alert with the section of its kind. Default `docs/alerts.md` (the path in this repository)."},
	{Name: AlertLogGroup, Doc: "The webhook's log group: alerts link a CloudWatch Logs Insights query for the cashbill in it (region from `AWS_REGION`). Empty: no logs link."},
}

// ReadPresentation reads what alerts show beside the cashbill.
func ReadPresentation(getenv func(string) string) (alert.Presentation, error) {
	p := alert.Presentation{
		Environment: strings.TrimSpace(getenv(EnvironmentName)),
		RunbookURL:  strings.TrimSpace(getenv(AlertRunbookURL)),
		Region:      strings.TrimSpace(getenv(awsRegion)),
		LogGroup:    strings.TrimSpace(getenv(AlertLogGroup)),
	}
	names, bad, ok := alert.ParseBusinessNames(getenv(BusinessNames))
	if !ok {
		return p, fmt.Errorf("%s: %q is not a 10-digit business number, '=' and a name", BusinessNames, bad)
	}
	p.BusinessNames = names
	return p, nil
}
