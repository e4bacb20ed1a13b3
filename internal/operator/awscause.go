package operator

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/popbill-cashbill-webhook/receiver/internal/awserr"
)

// loadAWSConfig is the SDK configuration of every AWS target. The SDK's own
// log lines (such as "falling back to IMDSv1" while it looks for
// credentials on a workstation) are dropped: the tool says what went wrong
// in one line of its own (awsCause).
func loadAWSConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithLogger(logging.Nop{}))
	if err != nil {
		return aws.Config{}, exit(ExitFailed, "the AWS configuration could not be read (AWS_PROFILE, AWS_CONFIG_FILE): %s", firstLine(err))
	}
	if cfg.Region == "" {
		return aws.Config{}, exit(ExitFailed, "no AWS region: set AWS_REGION (ap-northeast-2) or the region of your AWS_PROFILE")
	}
	// The SDK would report missing credentials as a failed request, like
	// an unreachable endpoint; asking for them first tells the two apart.
	if cfg.Credentials == nil {
		return aws.Config{}, exit(ExitFailed, "%s", noCredentials)
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return aws.Config{}, exit(ExitFailed, "%s", noCredentials)
	}
	return cfg, nil
}

const noCredentials = "no usable AWS credentials: set AWS_PROFILE (and run aws sso login if its session expired), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"

// Error codes of credentials AWS refused: expired, wrong or of another partition.
var refusedCredentials = map[string]bool{
	"ExpiredToken": true, "ExpiredTokenException": true, "InvalidClientTokenId": true,
	"UnrecognizedClientException": true, "SignatureDoesNotMatch": true, "InvalidSignatureException": true,
}

// awsCause says in plain words why an AWS call failed, naming what to do:
// no credentials, credentials refused, access denied, no network or
// endpoint, or the service's error code. Never the SDK's text, which can
// carry account ids and request ids.
func awsCause(err error) string {
	var (
		signing *v4.SigningError
		send    *smithyhttp.RequestSendError
		netErr  net.Error
		api     smithy.APIError
		op      *smithy.OperationError
	)
	call := "AWS"
	if errors.As(err, &op) {
		call = op.Service() + " " + op.Operation()
	}
	switch {
	case errors.As(err, &signing):
		return noCredentials
	case errors.As(err, &api) && refusedCredentials[api.ErrorCode()]:
		return "AWS refused the credentials (" + api.ErrorCode() + "): they are expired or wrong; renew them (aws sso login) and run this again"
	case errors.As(err, &api) && strings.HasPrefix(api.ErrorCode(), "AccessDenied"):
		return "access denied to " + call + " (" + api.ErrorCode() + "): the credentials' role lacks that permission (README, Operating it, lists what the tool needs)"
	case errors.As(err, &api):
		return call + ": " + api.ErrorCode()
	case errors.As(err, &send), errors.As(err, &netErr):
		return "could not reach " + call + ": no network, or a wrong AWS_REGION or AWS_ENDPOINT_URL"
	}
	return awserr.Cause(err)
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
