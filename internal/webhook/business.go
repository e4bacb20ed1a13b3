package webhook

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/popbill-cashbill-webhook/receiver/internal/business"
	"github.com/popbill-cashbill-webhook/receiver/internal/cashbill"
)

// TokenParameter is the path parameter of the Individual Webhook route,
// POST /pbconnect/{token}: API Gateway gives it in PathParameters.
const TokenParameter = "token"

// TokenResolver says which business a webhook address's token was issued
// for (business.Resolver), or business.ErrUnknown.
type TokenResolver interface {
	Resolve(ctx context.Context, token string) (business.Resolved, error)
}

// WithBusinessTokens serves POST /pbconnect/{token}: a request there is
// authenticated by its token instead of the Common Webhook's credential, and
// only events of the token's business are accepted. Without it, every token
// is answered as unknown.
func WithBusinessTokens(tokens TokenResolver) Option {
	return func(h *Handler) { h.tokens = tokens }
}

// UnknownTokenMessage is the one answer to a token that is not valid: never
// issued, revoked, past its rotation overlap, or malformed alike.
const UnknownTokenMessage = "this webhook address is not valid (unknown, revoked or expired): ask the receiver's operator for the business's current address and enter it as the 콜백 URL on the POPBiLL site"

// tokenOf returns the token of a request to the Individual Webhook route.
func tokenOf(req events.APIGatewayV2HTTPRequest) (string, bool) {
	t, ok := req.PathParameters[TokenParameter]
	return t, ok
}

// verify authenticates the caller: by the Common Webhook's credential on
// /pbconnect, by the token on /pbconnect/{token}. The token is never logged
// or echoed.
func (h *Handler) verify(ctx context.Context, req events.APIGatewayV2HTTPRequest, header func(string) string, r *invocation) error {
	token, ok := tokenOf(req)
	if !ok {
		which, err := h.rules.Auth.Which(header)
		if err != nil {
			return fail(Unauthorized, err.Error(), err)
		}
		r.authenticated, r.credential = true, which
		return nil
	}
	if h.tokens == nil {
		return fail(Unauthorized, UnknownTokenMessage, nil)
	}
	b, err := h.tokens.Resolve(ctx, token)
	switch {
	case errors.Is(err, business.ErrUnknown):
		return fail(Unauthorized, UnknownTokenMessage, nil)
	case err != nil:
		return fail(Unavailable, "the webhook address could not be checked just now; the event was not stored: please retry (POPBiLL retries automatically)", err)
	}
	r.business, r.tokenID = b.CorpNum, b.TokenID
	return nil
}

// checkBusiness refuses an event that arrived at one business's address for
// another business number: neither corpNum nor franchiseCorpNum may differ.
func checkBusiness(ev cashbill.Event, r *invocation) error {
	if r.business == "" {
		return nil
	}
	for _, n := range []string{ev.FranchiseCorpNum, ev.CorpNum} {
		if n != "" && n != r.business {
			r.businessRefused = true
			return fail(Forbidden, fmt.Sprintf("this webhook address is for business %s, but the event is for business %s: events are accepted only at their own business's address",
				cashbill.FormatBusinessNumber(r.business), cashbill.FormatBusinessNumber(cashbill.Clip(n))), nil)
		}
	}
	return nil
}

// tokenCredential is what the archive records of a delivery to the
// Individual Webhook route: whether its token was valid and for the event's
// business, and which token (its ID, never the token).
func tokenCredential(r *invocation) (bool, string) {
	if r.business == "" {
		return false, ""
	}
	return !r.businessRefused, "token " + r.tokenID
}
