// Package store defines how the CA keeps its records: issued certificates,
// their revocation status, CRL shards, API keys and the audit chain.
//
// One interface, several engines (ca/store/sqlite, ca/store/postgres). Every
// change of state is written in one transaction together with the audit
// entry that records it, so the audit chain and the tables never disagree.
package store

import (
	"context"
	"errors"
	"time"

	"esig/ca/audit"
)

// Errors every engine returns (wrapped or not) so callers can tell cases
// apart with errors.Is.
var (
	ErrNotFound  = errors.New("store: not found")
	ErrDuplicate = errors.New("store: already exists")
	// ErrConflict reports a write that lost to a concurrent one, such as a
	// CRL whose number is not above the newest stored for its shard.
	ErrConflict = errors.New("store: conflicting concurrent change")
)

// Status is a certificate's revocation status as the CA records it.
// Expiry is not a status: it follows from NotAfter.
type Status string

// The statuses a certificate can have.
const (
	StatusValid   Status = "valid"
	StatusRevoked Status = "revoked"
	StatusOnHold  Status = "on-hold" // revoked with reason certificateHold; may be released
)

// CRL reason codes of RFC 5280, section 5.3.1, that the store needs to know.
const (
	ReasonUnspecified     = 0
	ReasonCertificateHold = 6
	ReasonRemoveFromCRL   = 8
)

// Certificate is one issued certificate.
type Certificate struct {
	Serial       string // lowercase hex of the serial's big-endian bytes
	DER          []byte
	Profile      string
	Subject      string // for people and listings (issuance.DNString)
	SubscriberID string // optional: the registration authority's subscriber
	Shard        int    // the CRL shard that lists it once revoked
	NotBefore    time.Time
	NotAfter     time.Time
	IssuedAt     time.Time
	Status       Status
	RevokedAt    time.Time // zero unless Status is revoked or on-hold
	Reason       int       // RFC 5280 CRLReason; meaningful when revoked or on hold
}

// RevokedEntry is one line of a CRL.
type RevokedEntry struct {
	Serial    string
	RevokedAt time.Time
	Reason    int
}

// ListFilter selects certificates for a listing. Page is 1-based.
type ListFilter struct {
	Status       Status // empty: any
	Profile      string // empty: any
	SubscriberID string // empty: any
	Page         int
	PageSize     int
}

// CRL is one published CRL of one shard.
type CRL struct {
	Shard      int
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	DER        []byte
}

// Lease is a time-limited claim of one process (its Holder) on a CRL shard:
// while the lease runs, only its holder regenerates the shard. Leases are
// operational bookkeeping, not records of the CA, so taking, renewing and
// releasing them writes no audit entry.
//
// Until is compared with the caller's clock: replicas' clocks must agree to
// well within a lease's length (NTP does).
type Lease struct {
	Shard  int
	Holder string
	Until  time.Time
}

// APIKey is an API credential. The secret itself is never stored: only
// Hash, a SHA-256 of it.
type APIKey struct {
	ID        string
	Name      string
	Hash      []byte
	Scopes    []string
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key is active
}

// Store is the CA's persistence. Implementations are safe for concurrent
// use by many goroutines and, for engines that allow it, many processes.
type Store interface {
	// InsertCertificate stores a newly issued certificate and its audit
	// event in one transaction. It returns ErrDuplicate if the serial is
	// already stored; then nothing is written.
	InsertCertificate(ctx context.Context, c *Certificate, ev audit.Event) error
	// Certificate returns the certificate with this serial, or ErrNotFound.
	Certificate(ctx context.Context, serial string) (*Certificate, error)
	// ListCertificates returns one page of certificates, newest first, and
	// the number of certificates matching the filter.
	ListCertificates(ctx context.Context, f ListFilter) ([]*Certificate, int, error)
	// Revoke records a revocation (reason certificateHold puts the
	// certificate on hold). It returns the certificate as it stands after
	// the call and whether anything changed: revoking a revoked certificate
	// again changes nothing and writes no audit entry; a certificate on
	// hold may be revoked for good. ErrNotFound if there is no such serial.
	Revoke(ctx context.Context, serial string, reason int, at time.Time, ev audit.Event) (*Certificate, bool, error)
	// ReleaseHold makes a certificate on hold valid again. Changed is false
	// if it was valid already; a certificate revoked for good yields
	// ErrConflict.
	ReleaseHold(ctx context.Context, serial string, ev audit.Event) (*Certificate, bool, error)
	// RevokedInShard lists the revoked and on-hold certificates of a shard
	// that have not expired before notAfter, for a CRL.
	RevokedInShard(ctx context.Context, shard int, notAfter time.Time) ([]RevokedEntry, error)
	// StatusChangedSince lists serials whose status changed at or after t,
	// so caches in other processes can be refreshed.
	StatusChangedSince(ctx context.Context, t time.Time) ([]string, error)

	// LatestCRL returns the newest stored CRL of a shard, or ErrNotFound.
	LatestCRL(ctx context.Context, shard int) (*CRL, error)
	// SaveCRL stores a newly signed CRL with its audit event. Its Number must
	// be above every number stored for the shard, else ErrConflict.
	SaveCRL(ctx context.Context, c *CRL, ev audit.Event) error

	// TakeCRLLease gives holder the lease on shard until until, if nobody
	// holds it, its lease ran out before now, or holder holds it already
	// (then it is extended to until). It returns the lease as it stands
	// after the call and whether holder holds it. Each call is its own short
	// transaction, never queued behind certificate writes.
	TakeCRLLease(ctx context.Context, shard int, holder string, now, until time.Time) (Lease, bool, error)
	// RenewCRLLease extends holder's lease on shard to until. It returns
	// ErrConflict if holder no longer holds it (released, or run out and
	// taken by another).
	RenewCRLLease(ctx context.Context, shard int, holder string, until time.Time) error
	// ReleaseCRLLease gives up holder's lease on shard, so another replica
	// need not wait for it to run out. Releasing a lease holder does not
	// hold is not an error and changes nothing.
	ReleaseCRLLease(ctx context.Context, shard int, holder string) error

	// InsertAPIKey stores a new API key (ErrDuplicate if its ID is taken).
	InsertAPIKey(ctx context.Context, k *APIKey, ev audit.Event) error
	// APIKey returns the key with this ID, revoked or not, or ErrNotFound.
	APIKey(ctx context.Context, id string) (*APIKey, error)
	// ListAPIKeys returns every API key, oldest first.
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeAPIKey deactivates a key; revoking twice is not an error and is
	// audited once. ErrNotFound if there is no such key.
	RevokeAPIKey(ctx context.Context, id string, at time.Time, ev audit.Event) error

	// AppendAudit records an event that changes no table (a key created in
	// an HSM, say).
	AppendAudit(ctx context.Context, ev audit.Event) error
	// WalkAudit calls fn for every audit entry in order of Seq, stopping at
	// the first error fn returns.
	WalkAudit(ctx context.Context, fn func(audit.Entry) error) error

	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Full is a store that also keeps the registration authority's records;
// every engine is one.
type Full interface {
	Store
	RAStore
}
