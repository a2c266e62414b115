package ra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

// expirable are the statuses an application can expire from.
var expirable = []store.ApplicationStatus{store.ApplicationPending, store.ApplicationConfirmed}

// ExpireDue expires every application past its time, purging its personal
// data and evidence (the audit log keeps who and when, never the data).
// It returns how many it expired.
func (r *RA) ExpireDue(ctx context.Context) (int, error) {
	n := 0
	for {
		now := r.cfg.Now().UTC()
		due, err := r.cfg.Store.DueApplications(ctx, expirable, now, 100)
		if err != nil || len(due) == 0 {
			return n, err
		}
		for _, d := range due {
			_, err := r.cfg.Store.UpdateApplication(ctx, d.ID, func(a *store.Application) (audit.Event, error) {
				if (a.Status != store.ApplicationPending && a.Status != store.ApplicationConfirmed) || !a.ExpiresAt.Before(now) {
					return audit.Event{}, errSkip
				}
				// An enrollment in progress holds its claim: the expiry waits.
				if !a.TokenUsedAt.IsZero() {
					return audit.Event{}, errSkip
				}
				purge(a, now)
				a.Status = store.ApplicationExpired
				details, _ := json.Marshal(map[string]string{"subscriberId": a.SubscriberID})
				return audit.Event{Time: now, Kind: KindApplicationExpired, Actor: "system", Object: a.ID, Details: details}, nil
			})
			switch {
			case errors.Is(err, errSkip):
			case err != nil:
				return n, err
			default:
				n++
			}
		}
		if len(due) < 100 {
			return n, nil
		}
	}
}

var errSkip = errors.New("ra: nothing to do")

// purge drops an application's personal data, evidence and token.
func purge(a *store.Application, now time.Time) {
	a.Applicant, a.Proof, a.TokenHash, a.PurgedAt = nil, nil, nil, now
}

// Deactivate closes a subscriber's account: every certificate still valid
// or on hold is revoked with cessationOfOperation and open applications are
// cancelled and purged. The subscriber record and its ID stay, so the same
// identity registering again gets the same ID. It returns the serials
// revoked.
func (r *RA) Deactivate(ctx context.Context, subscriberID, actor string, evidence map[string]string) ([]string, error) {
	now := r.cfg.Now().UTC()
	details, _ := json.Marshal(evidence)
	if _, err := r.cfg.Store.DeactivateSubscriber(ctx, subscriberID, now, audit.Event{Time: now, Kind: KindSubscriberDeactivated, Actor: actor, Object: subscriberID, Details: details}); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	// Revocation runs after the deactivation is recorded and is idempotent,
	// so a deactivation interrupted half-way is completed by repeating it.
	var revoked []string
	for _, st := range []store.Status{store.StatusValid, store.StatusOnHold} {
		for {
			certs, _, err := r.cfg.Authority.List(ctx, store.ListFilter{SubscriberID: subscriberID, Status: st, Page: 1, PageSize: 100})
			if err != nil {
				return revoked, err
			}
			if len(certs) == 0 {
				break
			}
			for _, c := range certs {
				if _, _, err := r.cfg.Authority.Revoke(ctx, c.Serial, reasonCessationOfOperation, actor); err != nil {
					return revoked, fmt.Errorf("revoking %s: %w", c.Serial, err)
				}
				revoked = append(revoked, c.Serial)
			}
		}
	}
	open, _, err := r.cfg.Store.ListApplications(ctx, store.ApplicationFilter{SubscriberID: subscriberID, PageSize: 1000})
	if err != nil {
		return revoked, err
	}
	for _, a := range open {
		if a.Status != store.ApplicationPending && a.Status != store.ApplicationConfirmed {
			continue
		}
		_, err := r.cfg.Store.UpdateApplication(ctx, a.ID, func(a *store.Application) (audit.Event, error) {
			if a.Status != store.ApplicationPending && a.Status != store.ApplicationConfirmed {
				return audit.Event{}, errSkip
			}
			purge(a, now)
			a.Status = store.ApplicationCancelled
			return audit.Event{Time: now, Kind: KindApplicationCancelled, Actor: actor, Object: a.ID}, nil
		})
		if err != nil && !errors.Is(err, errSkip) {
			return revoked, err
		}
	}
	return revoked, nil
}

// reasonCessationOfOperation is RFC 5280's code for a closed account.
const reasonCessationOfOperation = 5

// DeactivateBySignature deactivates a subscriber on a request they signed
// (the deactivation document) with a trusted profile or a qualified
// signature whose PESEL is the subscriber's.
func (r *RA) DeactivateBySignature(ctx context.Context, subscriberID string, signed []byte, actor string) ([]string, error) {
	if r.cfg.Verifier == nil {
		return nil, ErrNoVerifier
	}
	sub, err := r.cfg.Store.Subscriber(ctx, subscriberID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	proven, err := r.cfg.Verifier.VerifyIdentity(ctx, signed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProofMismatch, err)
	}
	if err := checkSignedDeactivation(proven.SignedContent, sub); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProofMismatch, err)
	}
	if r.identityKey("PNOPL-"+proven.PESEL) != sub.IdentityKey {
		return nil, fmt.Errorf("%w: the signer is not this subscriber", ErrProofMismatch)
	}
	return r.Deactivate(ctx, subscriberID, actor, map[string]string{"method": proven.Method, "by": "signed request"})
}

// Subscriber returns a subscriber by ID.
func (r *RA) Subscriber(ctx context.Context, id string) (*store.Subscriber, error) {
	s, err := r.cfg.Store.Subscriber(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	return s, err
}

// expiryNotice is how long before expiry a certificate is announced.
const expiryNotice = 30 * 24 * time.Hour

// AnnounceExpiring records a "certificate.expiring" event for every valid
// certificate expiring within 30 days, once each; webhooks deliver them.
func (r *RA) AnnounceExpiring(ctx context.Context) (int, error) {
	n := 0
	for {
		now := r.cfg.Now().UTC()
		certs, err := r.cfg.Store.ExpiringCertificates(ctx, now.Add(expiryNotice), 100)
		if err != nil || len(certs) == 0 {
			return n, err
		}
		for _, c := range certs {
			details, _ := json.Marshal(map[string]any{"subscriberId": c.SubscriberID, "notAfter": c.NotAfter, "profile": c.Profile})
			changed, err := r.cfg.Store.MarkExpiring(ctx, c.Serial, audit.Event{Time: now, Kind: KindCertificateExpiring, Actor: "system", Object: c.Serial, Details: details})
			if err != nil {
				return n, err
			}
			if changed {
				n++
			}
		}
		if len(certs) < 100 {
			return n, nil
		}
	}
}

// Run expires applications and announces expiring certificates every
// interval until ctx ends.
func (r *RA) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := r.ExpireDue(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Log.Error("ra: expiring applications failed", "err", err)
		}
		if _, err := r.AnnounceExpiring(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Log.Error("ra: announcing expiring certificates failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
