// Package lease is the one rule of every claim with a lease in the receiver:
// an owed alert on its cashbill's item, a storm window's digest, and an
// alert the Slack notifier posts. A lease has an owner and an expiry; a
// claim takes it when it is free: held by no one, expired, or already the
// claimant's (a retried claim whose answer was lost). The embedded stores
// apply the rule to a Lease in Go; the DynamoDB adapters as the condition
// expression Attributes builds.
package lease

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
)

// Lease is who holds a claim, and until when.
type Lease struct {
	Owner string
	Until time.Time
}

// Take is owner's lease for d from now.
func Take(owner string, now time.Time, d time.Duration) Lease {
	return Lease{Owner: owner, Until: now.Add(d)}
}

// HeldAgainst reports whether another owner's lease still runs at now, so
// that owner's claim is refused.
func (l Lease) HeldAgainst(owner string, now time.Time) bool {
	return l.Owner != "" && l.Owner != owner && !l.Until.Before(now)
}

// Attributes name where an item keeps its lease: the owner (S) and the
// expiry (N, unix milliseconds).
type Attributes struct {
	Owner, Until string
}

// Free is the condition that owner may take the lease at now.
func (a Attributes) Free(owner string, now time.Time) expression.ConditionBuilder {
	return expression.Or(
		expression.AttributeNotExists(expression.Name(a.Until)),
		expression.Name(a.Until).LessThan(expression.Value(now.UnixMilli())),
		a.HeldBy(owner))
}

// HeldBy is the condition that owner holds the lease (expired or not).
func (a Attributes) HeldBy(owner string) expression.ConditionBuilder {
	return expression.Name(a.Owner).Equal(expression.Value(owner))
}

// Set adds writing l to u.
func (a Attributes) Set(u expression.UpdateBuilder, l Lease) expression.UpdateBuilder {
	return u.Set(expression.Name(a.Owner), expression.Value(l.Owner)).
		Set(expression.Name(a.Until), expression.Value(l.Until.UnixMilli()))
}

// Remove adds dropping the lease to u.
func (a Attributes) Remove(u expression.UpdateBuilder) expression.UpdateBuilder {
	return u.Remove(expression.Name(a.Owner)).Remove(expression.Name(a.Until))
}
