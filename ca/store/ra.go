package store

import (
	"context"
	"time"

	"esig/ca/audit"
)

// The registration authority's records live in the same database as the
// CA's, so their changes are chained in the same audit log and can be made
// in the same transactions.

// Subscriber is a person or organization the registration authority knows.
// Its ID is stable: it survives the deactivation of the account and a later
// registration of the same identity, which maps to the same subscriber.
type Subscriber struct {
	ID string
	// IdentityKey is a keyed hash of the identity (the PNOPL-/IDCPL-/VATPL-/
	// NTRPL- identifier), never the identifier itself, so a subscriber can
	// be recognised again after its personal data was purged.
	IdentityKey   string
	CreatedAt     time.Time
	DeactivatedAt time.Time // zero while active
}

// ApplicationStatus is where an application stands.
type ApplicationStatus string

// The application statuses.
const (
	ApplicationPending   ApplicationStatus = "pending"   // waiting for identity proofing
	ApplicationConfirmed ApplicationStatus = "confirmed" // identity proven; the enrollment token works
	ApplicationEnrolled  ApplicationStatus = "enrolled"  // a certificate was issued
	ApplicationExpired   ApplicationStatus = "expired"   // not confirmed or enrolled in time; personal data purged
	ApplicationCancelled ApplicationStatus = "cancelled" // withdrawn, or the subscriber deactivated
)

// Application is a request for a certificate and the evidence behind it.
type Application struct {
	ID           string
	SubscriberID string
	Profile      string
	Status       ApplicationStatus
	// Applicant is the personal data (JSON); nil once purged.
	Applicant []byte
	CreatedBy string // the actor that created it (a portal's API key)
	CreatedAt time.Time
	ExpiresAt time.Time
	// Identity proofing.
	ConfirmedAt time.Time
	ProofMethod string // "in-person", "trusted-profile", "qualified-signature"
	Proof       []byte // JSON summary of the evidence
	// Enrollment: a one-time token, kept as its SHA-256 only.
	TokenHash         []byte
	TokenExpiresAt    time.Time
	TokenUsedAt       time.Time // set while an enrollment is in progress and after it
	CertificateSerial string
	PurgedAt          time.Time
}

// ApplicationFilter selects applications for a listing. Page is 1-based.
type ApplicationFilter struct {
	Status       ApplicationStatus
	SubscriberID string
	Page         int
	PageSize     int
}

// Webhook is an endpoint of a portal that is told about events. It reads
// the audit log from its cursor on, so it misses nothing that was committed.
type Webhook struct {
	ID        string
	URL       string
	Events    []string // audit kinds delivered
	CreatedAt time.Time
	// Delivery state.
	Cursor        int64 // the last audit entry handled
	Attempts      int   // failed attempts at the entry after the cursor
	NextAttemptAt time.Time
	LastError     string
	LeaseUntil    time.Time // a replica delivering holds the endpoint until then
}

// Receipt is a sealed receipt the intake issued for a document.
type Receipt struct {
	Number         string
	CreatedAt      time.Time
	DocumentSHA256 string
	Indication     string
	CreatedBy      string
	XML            []byte // the sealed receipt as issued
}

// RAStore is the registration authority's persistence.
type RAStore interface {
	// EnsureSubscriber returns the subscriber with this identity key,
	// creating it (and writing ev) when there is none, and reactivating it
	// (also writing ev) when it was deactivated. created reports a new one.
	EnsureSubscriber(ctx context.Context, identityKey string, newID string, ev audit.Event) (s *Subscriber, created bool, err error)
	// Subscriber returns a subscriber by ID, or ErrNotFound.
	Subscriber(ctx context.Context, id string) (*Subscriber, error)
	// DeactivateSubscriber marks a subscriber deactivated; changed is false
	// if it already was (and then nothing is written).
	DeactivateSubscriber(ctx context.Context, id string, at time.Time, ev audit.Event) (changed bool, err error)

	// InsertApplication stores a new application with its audit event.
	InsertApplication(ctx context.Context, a *Application, ev audit.Event) error
	// Application returns an application by ID, or ErrNotFound.
	Application(ctx context.Context, id string) (*Application, error)
	// ApplicationByToken finds the application holding an enrollment token
	// hash, or ErrNotFound.
	ApplicationByToken(ctx context.Context, tokenHash []byte) (*Application, error)
	// UpdateApplication reads the application in a write transaction and
	// applies change to it. change returns the audit event to write with the
	// new state, or an error to refuse the change (returned as is, nothing
	// written). change may be called more than once and must depend only on
	// its argument.
	UpdateApplication(ctx context.Context, id string, change func(*Application) (audit.Event, error)) (*Application, error)
	// ListApplications returns one page, newest first, and the total.
	ListApplications(ctx context.Context, f ApplicationFilter) ([]*Application, int, error)
	// DueApplications lists applications in the given statuses whose
	// ExpiresAt is before t, oldest first, at most limit.
	DueApplications(ctx context.Context, statuses []ApplicationStatus, t time.Time, limit int) ([]*Application, error)

	// InsertWebhook registers an endpoint with its audit event; its cursor
	// starts at the current end of the audit log.
	InsertWebhook(ctx context.Context, w *Webhook, ev audit.Event) error
	// Webhooks lists the endpoints.
	Webhooks(ctx context.Context) ([]*Webhook, error)
	// DeleteWebhook removes an endpoint (ErrNotFound if there is none).
	DeleteWebhook(ctx context.Context, id string, ev audit.Event) error
	// LeaseWebhook takes an endpoint for delivery until `until` if it is
	// due at now and not leased by someone else; false if not taken.
	LeaseWebhook(ctx context.Context, id string, now, until time.Time) (*Webhook, bool, error)
	// RecordDelivery saves an endpoint's delivery state and releases its
	// lease. Delivery state is operational, not audited.
	RecordDelivery(ctx context.Context, w *Webhook) error
	// AuditAfter returns up to limit audit entries after seq, in order.
	AuditAfter(ctx context.Context, seq int64, limit int) ([]audit.Entry, error)

	// ExpiringCertificates lists valid certificates whose notAfter is before
	// t and that were not yet announced as expiring, at most limit.
	ExpiringCertificates(ctx context.Context, t time.Time, limit int) ([]*Certificate, error)
	// MarkExpiring records that a certificate was announced as expiring,
	// with its audit event (once per certificate; false if already marked).
	MarkExpiring(ctx context.Context, serial string, ev audit.Event) (bool, error)

	// InsertReceipt stores a sealed receipt with its audit event.
	InsertReceipt(ctx context.Context, r *Receipt, ev audit.Event) error
	// Receipt returns a receipt by number, or ErrNotFound.
	Receipt(ctx context.Context, number string) (*Receipt, error)
}
