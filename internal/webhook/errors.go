package webhook

import (
	"errors"
	"net/http"

	"github.com/popbill-cashbill-webhook/receiver/internal/awserr"
)

// Kind classifies what went wrong; it alone decides the HTTP status.
type Kind int

// The kinds of failure. Every kind below Unavailable is the caller's: a retry
// of the same request fails the same way, so those are answered 4xx.
const (
	Internal Kind = iota
	Invalid
	Unauthorized
	Forbidden
	MethodNotAllowed
	TooLarge
	// NotFound: what was asked for does not exist (the local server's lookups).
	NotFound
	// Unavailable: a dependency failed; the same request may succeed later.
	Unavailable
)

// Error is a failure with a message the caller may read. POPBiLL shows the
// message to its customer, so it is plain words and never holds a secret or
// the text of Err.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

func fail(k Kind, msg string, err error) *Error { return &Error{Kind: k, Message: msg, Err: err} }

// Status maps an error to the HTTP status and body of the response. It is the
// only place where error kinds become statuses.
func Status(err error) (int, string) {
	var e *Error
	if !errors.As(err, &e) {
		return http.StatusInternalServerError, "internal error: the event was not stored; POPBiLL may retry it"
	}
	switch e.Kind {
	case Invalid:
		return http.StatusBadRequest, e.Message
	case Unauthorized:
		return http.StatusUnauthorized, e.Message
	case Forbidden:
		return http.StatusForbidden, e.Message
	case MethodNotAllowed:
		return http.StatusMethodNotAllowed, e.Message
	case TooLarge:
		return http.StatusRequestEntityTooLarge, e.Message
	case NotFound:
		return http.StatusNotFound, e.Message
	case Unavailable:
		return http.StatusServiceUnavailable, e.Message
	default:
		return http.StatusInternalServerError, e.Message
	}
}

// cause names what failed underneath err for the log, without its text.
func cause(err error) string { return awserr.Cause(err) }
