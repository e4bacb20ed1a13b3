package state

// AlertDigested is the status of a failure alert that a storm window's
// digest carries instead of a message of its own: Item.AlertWindow names the
// window. It turns AlertSent, with the digest's message id, once the digest
// is published. It is in no queue: the window is (package outbox's storm
// windows, kept in the same table).
const AlertDigested AlertStatus = "digested"

// QueueDigest holds the storm windows whose digest is owed; DueAt is the
// window's end.
const QueueDigest = "digest"
