// Package auth issues and checks esig's API keys.
//
// A key is shown to its owner once, as "esig_<id>_<secret>". The store
// keeps the id, the scopes and a SHA-256 of the secret, never the secret:
// the secret is 256 random bits, so a fast hash is as strong as a slow one
// and keeps authentication cheap on every request.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

// Scopes an API key can hold. Admin implies every other scope, and an RA
// officer's ra:approve implies the portal's ra:write.
//
// certificates:issue is the direct route to the CA, without an
// application: it is for RA officers and operators. Portals hold ra:write
// and get certificates issued only through confirmed applications.
const (
	ScopeIssue     = "certificates:issue"
	ScopeRevoke    = "certificates:revoke"
	ScopeRead      = "certificates:read"
	ScopeRAWrite   = "ra:write"
	ScopeRAApprove = "ra:approve"
	ScopeAdmin     = "admin"
)

// AllScopes lists the scopes in the order help texts show them.
var AllScopes = []string{ScopeIssue, ScopeRevoke, ScopeRead, ScopeRAWrite, ScopeRAApprove, ScopeAdmin}

// ErrUnauthenticated covers a missing, malformed, unknown or revoked key:
// callers learn nothing about which.
var ErrUnauthenticated = errors.New("missing or invalid API key")

const prefix = "esig_"

// NewKey makes a key with the given name and scopes. It returns the token
// to hand to the owner and the record to store.
func NewKey(name string, scopes []string, now time.Time) (string, *store.APIKey, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, &FieldError{"name", "must be 1 to 100 characters"}
	}
	if len(scopes) == 0 {
		return "", nil, &FieldError{"scopes", "at least one of " + strings.Join(AllScopes, ", ")}
	}
	seen := map[string]bool{}
	for _, s := range scopes {
		if !slices.Contains(AllScopes, s) {
			return "", nil, &FieldError{"scopes", fmt.Sprintf("unknown scope %q (known: %s)", s, strings.Join(AllScopes, ", "))}
		}
		if seen[s] {
			return "", nil, &FieldError{"scopes", fmt.Sprintf("%q given twice", s)}
		}
		seen[s] = true
	}
	var idb [8]byte
	var secret [32]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", nil, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", nil, err
	}
	id := hex.EncodeToString(idb[:])
	sec := base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(sec))
	k := &store.APIKey{ID: id, Name: name, Hash: sum[:], Scopes: slices.Clone(scopes), CreatedAt: now.UTC().Truncate(time.Microsecond)}
	return prefix + id + "_" + sec, k, nil
}

// FieldError is a refused field of a new key.
type FieldError struct{ Field, Reason string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Create makes a key and stores it with its audit entry; it returns the
// token to hand over once. Errors in name or scopes are *FieldError.
func Create(ctx context.Context, st store.Store, name string, scopes []string, actor string) (string, *store.APIKey, error) {
	token, k, err := NewKey(name, scopes, time.Now())
	if err != nil {
		return "", nil, err
	}
	details, _ := json.Marshal(map[string]any{"name": k.Name, "scopes": k.Scopes})
	err = st.InsertAPIKey(ctx, k, audit.Event{Time: k.CreatedAt, Kind: audit.KindAPIKeyCreated, Actor: actor, Object: k.ID, Details: details})
	if err != nil {
		return "", nil, err
	}
	return token, k, nil
}

// parseToken splits a token into id and secret.
func parseToken(token string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 43 {
		return "", "", false
	}
	return id, secret, true
}

// HasScope reports whether k grants scope.
func HasScope(k *store.APIKey, scope string) bool {
	return slices.Contains(k.Scopes, ScopeAdmin) || slices.Contains(k.Scopes, scope) ||
		(scope == ScopeRAWrite && slices.Contains(k.Scopes, ScopeRAApprove))
}

// Authenticator checks tokens against the store, remembering good keys for
// a short time so a busy client does not cost a database read per request.
// A key revoked in this process is forgotten at once; one revoked by
// another process stops working within the cache time.
type Authenticator struct {
	st    store.Store
	ttl   time.Duration
	mu    sync.RWMutex
	cache map[string]cached
}

type cached struct {
	key   *store.APIKey
	until time.Time
}

// NewAuthenticator returns an Authenticator caching keys for ttl.
func NewAuthenticator(st store.Store, ttl time.Duration) *Authenticator {
	return &Authenticator{st: st, ttl: ttl, cache: map[string]cached{}}
}

// Authenticate returns the active key a token belongs to, or
// ErrUnauthenticated.
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*store.APIKey, error) {
	id, secret, ok := parseToken(token)
	if !ok {
		return nil, ErrUnauthenticated
	}
	now := time.Now()
	a.mu.RLock()
	c, hit := a.cache[id]
	a.mu.RUnlock()
	k := c.key
	if !hit || now.After(c.until) {
		var err error
		k, err = a.st.APIKey(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, ErrUnauthenticated
		}
		if err != nil {
			return nil, err
		}
		a.mu.Lock()
		a.cache[id] = cached{key: k, until: now.Add(a.ttl)}
		a.mu.Unlock()
	}
	sum := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(sum[:], k.Hash) != 1 || !k.RevokedAt.IsZero() {
		return nil, ErrUnauthenticated
	}
	return k, nil
}

// Forget drops a key from the cache (after it was revoked).
func (a *Authenticator) Forget(id string) {
	a.mu.Lock()
	delete(a.cache, id)
	a.mu.Unlock()
}
