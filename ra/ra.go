// Package ra is esig's registration authority: it takes applications for
// certificates from portals, proves the applicant's identity (in person, by
// a trusted-profile signature, or by a qualified signature on the
// application), and only then lets the applicant enroll, once, with a key
// they generated themselves. It also deactivates subscribers, expires and
// purges stale applications, and announces events to portals by webhook.
//
// The CA never sees an applicant: it sees a confirmed application turned
// into an issuance request. Personal data stays in the application record
// until it is purged; the audit log records who did what to which subscriber
// without copying the personal data.
package ra

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"esig/ca"
	"esig/ca/audit"
	"esig/ca/issuance"
	"esig/ca/store"
)

// Audit kinds of the registration authority.
const (
	KindSubscriberRegistered  = "subscriber.registered"
	KindSubscriberDeactivated = "subscriber.deactivated"
	KindApplicationCreated    = "application.created"
	KindApplicationConfirmed  = "application.confirmed"
	KindApplicationExpired    = "application.expired"
	KindApplicationCancelled  = "application.cancelled"
	KindEnrollmentClaimed     = "enrollment.claimed"
	KindEnrollmentFailed      = "enrollment.failed"
	KindApplicationEnrolled   = "application.enrolled"
	KindCertificateExpiring   = "certificate.expiring"
	KindWebhookCreated        = "webhook.created"
	KindWebhookDeleted        = "webhook.deleted"
)

// Proofing methods.
const (
	ProofInPerson           = "in-person"
	ProofTrustedProfile     = "trusted-profile"
	ProofQualifiedSignature = "qualified-signature"
)

// Errors the RA returns besides *issuance.FieldError.
var (
	ErrNotFound      = errors.New("no such application or subscriber")
	ErrWrongState    = errors.New("the application is not in a state that allows this")
	ErrTokenInvalid  = errors.New("the enrollment link is unknown, expired or already used")
	ErrProofMismatch = errors.New("the proof of identity does not match the application")
	ErrNoVerifier    = errors.New("proof by signature is not available: no signature verifier configured")
	ErrDeactivated   = errors.New("the subscriber is deactivated")
)

// Applicant is the personal data of an application.
type Applicant struct {
	GivenName        string `json:"givenName,omitempty"`
	Surname          string `json:"surname,omitempty"`
	PESEL            string `json:"pesel,omitempty"`
	IDDocument       string `json:"idDocument,omitempty"`
	Email            string `json:"email,omitempty"`
	Phone            string `json:"phone,omitempty"`
	OrganizationName string `json:"organizationName,omitempty"`
	NIP              string `json:"nip,omitempty"`
	REGON            string `json:"regon,omitempty"`
}

func (a Applicant) subject() issuance.Subject {
	return issuance.Subject{GivenName: a.GivenName, Surname: a.Surname, PESEL: a.PESEL, IDDocument: a.IDDocument,
		OrganizationName: a.OrganizationName, NIP: a.NIP, REGON: a.REGON, Email: a.Email}
}

// ProvenIdentity is what a verified signature on an application document
// establishes about its signer.
type ProvenIdentity struct {
	Method     string   // ProofTrustedProfile or ProofQualifiedSignature
	GivenNames []string // as the evidence states them
	Surname    string
	PESEL      string
	// SignedContent is exactly what the signature covers (the application
	// document as signed), never a re-lookup by the caller.
	SignedContent []byte
	// Evidence is a summary for the record: signer, qualification, the
	// report's digest.
	Evidence map[string]string
}

// IdentityVerifier verifies a signed document and says whose identity it
// proves. The verifier package provides the real one; it returns an error
// for any signature that is not a valid trusted-profile seal or a
// qualified electronic signature.
type IdentityVerifier interface {
	VerifyIdentity(ctx context.Context, signed []byte) (*ProvenIdentity, error)
}

// Config assembles an RA.
type Config struct {
	Store     store.RAStore
	Authority *ca.Authority
	Profiles  map[string]*issuance.Profile
	Country   string
	// Secret keys the identity hashes of subscribers and the webhook
	// signing secrets. It must be the same on every replica.
	Secret []byte
	// ApplicationTTL: an application not confirmed or enrolled in time
	// expires and its personal data is purged.
	ApplicationTTL time.Duration
	// TokenTTL bounds an enrollment link's life.
	TokenTTL time.Duration
	Verifier IdentityVerifier // nil: only in-person proofing
	Now      func() time.Time
	Log      *slog.Logger
}

// RA is the registration authority.
type RA struct {
	cfg Config
}

// New checks cfg and returns an RA.
func New(cfg Config) (*RA, error) {
	switch {
	case cfg.Store == nil || cfg.Authority == nil || len(cfg.Profiles) == 0:
		return nil, errors.New("ra: store, authority and profiles are required")
	case len(cfg.Secret) < 32:
		return nil, errors.New("ra: the secret must have at least 32 bytes")
	}
	if cfg.ApplicationTTL <= 0 {
		cfg.ApplicationTTL = 7 * 24 * time.Hour
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 72 * time.Hour
	}
	if cfg.Country == "" {
		cfg.Country = "PL"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &RA{cfg: cfg}, nil
}

// SetVerifier connects the identity verifier (built after the RA in some
// assemblies).
func (r *RA) SetVerifier(v IdentityVerifier) { r.cfg.Verifier = v }

func (r *RA) mac(label, value string) []byte {
	m := hmac.New(sha256.New, r.cfg.Secret)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// identityKey is the keyed hash a subscriber is recognised by.
func (r *RA) identityKey(id string) string { return hex.EncodeToString(r.mac("identity", id)) }

func randomID(prefix string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("ra: random source failed: " + err.Error())
	}
	return prefix + hex.EncodeToString(b)
}

var phoneRE = regexp.MustCompile(`^\+?[0-9]{9,15}$`)

// NewApplication is what a portal sends to apply for a certificate.
type NewApplication struct {
	Profile   string
	Applicant Applicant
	Actor     string
}

// subscriberProfiles are the profiles an application may ask for.
var subscriberProfiles = map[string]bool{issuance.ProfilePersonSigning: true, issuance.ProfilePersonAuth: true, issuance.ProfileOrganizationSeal: true}

// CreateApplication validates and stores an application, registering the
// subscriber (or finding it again by identity) first.
func (r *RA) CreateApplication(ctx context.Context, in NewApplication) (*store.Application, error) {
	p, ok := r.cfg.Profiles[in.Profile]
	if !ok || !subscriberProfiles[in.Profile] {
		return nil, &issuance.FieldError{Field: "profile", Reason: fmt.Sprintf("%q is not a profile one can apply for (person-signing, person-auth, organization-seal)", in.Profile)}
	}
	ap := in.Applicant
	ap.Phone = strings.ReplaceAll(strings.TrimSpace(ap.Phone), " ", "")
	if ap.Phone != "" && !phoneRE.MatchString(ap.Phone) {
		return nil, &issuance.FieldError{Field: "applicant.phone", Reason: "is not a phone number (digits, optionally with a leading +)"}
	}
	if err := ap.subject().Validate(p, r.cfg.Country); err != nil {
		var fe *issuance.FieldError
		if errors.As(err, &fe) {
			fe.Field = strings.Replace(fe.Field, "subject", "applicant", 1)
		}
		return nil, err
	}
	if p.Subject == issuance.SubjectPerson && ap.Email == "" {
		return nil, &issuance.FieldError{Field: "applicant.email", Reason: "is required: the enrollment link is sent there"}
	}
	now := r.cfg.Now().UTC()
	sub, _, err := r.cfg.Store.EnsureSubscriber(ctx, r.identityKey(ap.subject().IdentityKey(p)), randomID("sub-", 10),
		audit.Event{Time: now, Kind: KindSubscriberRegistered, Actor: in.Actor})
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(ap)
	app := &store.Application{
		ID: randomID("app-", 10), SubscriberID: sub.ID, Profile: p.Name, Status: store.ApplicationPending,
		Applicant: data, CreatedBy: in.Actor, CreatedAt: now, ExpiresAt: now.Add(r.cfg.ApplicationTTL),
	}
	details, _ := json.Marshal(map[string]string{"subscriberId": sub.ID, "profile": p.Name})
	if err := r.cfg.Store.InsertApplication(ctx, app, audit.Event{Time: now, Kind: KindApplicationCreated, Actor: in.Actor, Object: app.ID, Details: details}); err != nil {
		return nil, err
	}
	return app, nil
}

// Application returns an application by ID.
func (r *RA) Application(ctx context.Context, id string) (*store.Application, error) {
	a, err := r.cfg.Store.Application(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	return a, err
}

// ApplicantOf decodes an application's personal data (empty once purged).
func ApplicantOf(a *store.Application) Applicant {
	var ap Applicant
	_ = json.Unmarshal(a.Applicant, &ap)
	return ap
}

// newToken makes an enrollment token and its stored hash.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("ra: random source failed: " + err.Error())
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(tok))
	return tok, sum[:]
}

// confirm marks an application's identity proven and issues its one-time
// enrollment token, returned in clear once.
func (r *RA) confirm(ctx context.Context, id, method string, proof map[string]string, actor string) (*store.Application, string, error) {
	token, hash := newToken()
	now := r.cfg.Now().UTC()
	a, err := r.cfg.Store.UpdateApplication(ctx, id, func(a *store.Application) (audit.Event, error) {
		if a.Status != store.ApplicationPending {
			return audit.Event{}, fmt.Errorf("%w: it is %s", ErrWrongState, a.Status)
		}
		if !now.Before(a.ExpiresAt) {
			return audit.Event{}, fmt.Errorf("%w: it expired at %s", ErrWrongState, a.ExpiresAt.Format(time.RFC3339))
		}
		raw, _ := json.Marshal(proof)
		a.Status, a.ConfirmedAt, a.ProofMethod, a.Proof = store.ApplicationConfirmed, now, method, raw
		a.TokenHash, a.TokenExpiresAt, a.TokenUsedAt = hash, now.Add(r.cfg.TokenTTL), time.Time{}
		// The enrollment window is the token's: the application lives as
		// long as its link does.
		a.ExpiresAt = a.TokenExpiresAt
		details, _ := json.Marshal(map[string]string{"subscriberId": a.SubscriberID, "method": method})
		return audit.Event{Time: now, Kind: KindApplicationConfirmed, Actor: actor, Object: a.ID, Details: details}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", err
	}
	return a, token, nil
}

// ConfirmInPerson records that an RA officer saw the applicant and their
// identity document.
func (r *RA) ConfirmInPerson(ctx context.Context, id, documentType, documentNumber, actor string) (*store.Application, string, error) {
	documentType = strings.TrimSpace(documentType)
	documentNumber = strings.ToUpper(strings.TrimSpace(documentNumber))
	switch documentType {
	case "identity-card", "passport", "residence-card":
	default:
		return nil, "", &issuance.FieldError{Field: "documentType", Reason: "must be identity-card, passport or residence-card"}
	}
	if len(documentNumber) < 5 || len(documentNumber) > 20 {
		return nil, "", &issuance.FieldError{Field: "documentNumber", Reason: "must be 5 to 20 characters"}
	}
	return r.confirm(ctx, id, ProofInPerson, map[string]string{"documentType": documentType, "documentNumber": documentNumber, "officer": actor}, actor)
}

// ProveBySignature checks a signed application document: the signature
// must be a valid trusted-profile seal or a qualified signature, cover this
// very application's document, and name the applicant (PESEL and names).
func (r *RA) ProveBySignature(ctx context.Context, id string, signed []byte, actor string) (*store.Application, string, error) {
	if r.cfg.Verifier == nil {
		return nil, "", ErrNoVerifier
	}
	a, err := r.Application(ctx, id)
	if err != nil {
		return nil, "", err
	}
	ap := ApplicantOf(a)
	proven, err := r.cfg.Verifier.VerifyIdentity(ctx, signed)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrProofMismatch, err)
	}
	if err := CheckSignedApplication(proven.SignedContent, a); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrProofMismatch, err)
	}
	if err := matchIdentity(ap, proven); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrProofMismatch, err)
	}
	evidence := map[string]string{}
	for k, v := range proven.Evidence {
		evidence[k] = v
	}
	sum := sha256.Sum256(signed)
	evidence["signedDocumentSha256"] = hex.EncodeToString(sum[:])
	return r.confirm(ctx, id, proven.Method, evidence, actor)
}

// matchIdentity compares the proven identity with the application.
func matchIdentity(ap Applicant, p *ProvenIdentity) error {
	switch {
	case ap.PESEL == "":
		return errors.New("the application names no PESEL, so a signature cannot prove it")
	case p.PESEL != ap.PESEL:
		return errors.New("the signer's PESEL differs from the applicant's")
	case !sameName(p.Surname, ap.Surname):
		return fmt.Errorf("the signer's surname %q differs from the applicant's", p.Surname)
	}
	for _, g := range p.GivenNames {
		if sameName(g, ap.GivenName) || sameName(strings.Join(p.GivenNames, " "), ap.GivenName) {
			return nil
		}
	}
	return errors.New("none of the signer's given names is the applicant's")
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// Store is the RA's store (for tools and tests that inspect delivery state).
func (r *RA) Store() store.RAStore { return r.cfg.Store }
