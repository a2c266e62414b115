package ra

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"time"

	"esig/ca"
	"esig/ca/audit"
	"esig/ca/store"
)

// tokenHash is how a token is looked up: only its SHA-256 is stored.
func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// Enrollment is what the enrollment page shows before the key is made.
type Enrollment struct {
	Application *store.Application
	Applicant   Applicant
}

// LookupEnrollment returns the application a valid, unused token belongs
// to, or ErrTokenInvalid (the caller learns nothing about why).
func (r *RA) LookupEnrollment(ctx context.Context, token string) (*Enrollment, error) {
	a, err := r.cfg.Store.ApplicationByToken(ctx, tokenHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrTokenInvalid
	}
	if err != nil {
		return nil, err
	}
	if a.Status != store.ApplicationConfirmed || !a.TokenUsedAt.IsZero() || !r.cfg.Now().Before(a.TokenExpiresAt) {
		return nil, ErrTokenInvalid
	}
	return &Enrollment{Application: a, Applicant: ApplicantOf(a)}, nil
}

// Enroll issues the application's certificate for the CSR, once. The token
// is claimed before the CA is asked, so two concurrent uses cannot both
// succeed; if the CA refuses the CSR, the claim is released so the
// applicant can try again with a sound request.
func (r *RA) Enroll(ctx context.Context, token string, csr []byte) (*store.Certificate, error) {
	en, err := r.LookupEnrollment(ctx, token)
	if err != nil {
		return nil, err
	}
	id := en.Application.ID
	actor := "enrollment:" + id
	now := r.cfg.Now().UTC()
	hash := tokenHash(token)
	_, err = r.cfg.Store.UpdateApplication(ctx, id, func(a *store.Application) (audit.Event, error) {
		if a.Status != store.ApplicationConfirmed || !a.TokenUsedAt.IsZero() || string(a.TokenHash) != string(hash) || !now.Before(a.TokenExpiresAt) {
			return audit.Event{}, ErrTokenInvalid
		}
		a.TokenUsedAt = now
		return audit.Event{Time: now, Kind: KindEnrollmentClaimed, Actor: actor, Object: a.ID}, nil
	})
	if err != nil {
		return nil, err
	}
	cert, issueErr := r.cfg.Authority.Issue(ctx, ca.IssueRequest{
		CSR: csr, Profile: en.Application.Profile, Subject: en.Applicant.subject(),
		SubscriberID: en.Application.SubscriberID, Actor: actor,
	})
	if issueErr != nil {
		details, _ := json.Marshal(map[string]string{"reason": issueErr.Error()})
		_, err := r.cfg.Store.UpdateApplication(ctx, id, func(a *store.Application) (audit.Event, error) {
			a.TokenUsedAt = time.Time{}
			return audit.Event{Time: r.cfg.Now(), Kind: KindEnrollmentFailed, Actor: actor, Object: a.ID, Details: details}, nil
		})
		return nil, errors.Join(issueErr, err)
	}
	details, _ := json.Marshal(map[string]string{"subscriberId": en.Application.SubscriberID, "serial": cert.Serial})
	_, err = r.cfg.Store.UpdateApplication(ctx, id, func(a *store.Application) (audit.Event, error) {
		a.Status, a.CertificateSerial = store.ApplicationEnrolled, cert.Serial
		return audit.Event{Time: r.cfg.Now(), Kind: KindApplicationEnrolled, Actor: actor, Object: a.ID, Details: details}, nil
	})
	if err != nil {
		// The certificate is issued and stored; the application keeps its
		// claim, so the token cannot issue a second one.
		r.cfg.Log.Error("ra: recording an enrollment failed", "application", id, "serial", cert.Serial, "err", err)
	}
	return cert, nil
}
