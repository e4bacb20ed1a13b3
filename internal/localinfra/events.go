package localinfra

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/popbill-cashbill-webhook/receiver/internal/samtemplate"
)

// EventsAPI is the EventBridge call ProvisionBuses makes.
type EventsAPI interface {
	CreateEventBus(ctx context.Context, params *eventbridge.CreateEventBusInput, optFns ...func(*eventbridge.Options)) (*eventbridge.CreateEventBusOutput, error)
}

const busType = "AWS::Events::EventBus"

// Bus properties with no effect in an emulator; Name is the stack's own.
var skippedBusProps = map[string]bool{"Name": true, "Tags": true, "Description": true, "KmsKeyIdentifier": true}

// ProvisionBuses creates every unconditional EventBridge bus of t, named
// "<name>-<LogicalId>", and adds its name (what !Ref returns) to st.Refs. A
// bus that exists already is kept.
func (st *Stack) ProvisionBuses(ctx context.Context, t *samtemplate.Template, name string, api EventsAPI) error {
	for _, id := range t.ResourcesOfType(busType) {
		r := t.Resources[id]
		if r.Condition != "" {
			continue
		}
		var none struct{}
		if err := decodeStrict(r.Properties, skippedBusProps, &none); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		physical := name + "-" + id
		_, err := api.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(physical)})
		var exists *ebtypes.ResourceAlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("%s: create event bus %s: %w", id, physical, err)
		}
		st.Refs[id] = physical
	}
	return nil
}
