package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

const apiKeyColumns = `id, name, hash, scopes, created_at, revoked_at`

func scanAPIKey(row scanner) (*store.APIKey, error) {
	var (
		k       store.APIKey
		scopes  string
		created int64
		revoked sql.NullInt64
	)
	if err := row.Scan(&k.ID, &k.Name, &k.Hash, &scopes, &created, &revoked); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(scopes), &k.Scopes); err != nil {
		return nil, fmt.Errorf("API key %s: stored scopes %q: %w", k.ID, scopes, err)
	}
	if len(k.Scopes) == 0 {
		k.Scopes = nil
	}
	k.CreatedAt, k.RevokedAt = fromMicros(created), fromNullMicros(revoked)
	return &k, nil
}

// InsertAPIKey stores a new, active API key. Scopes are kept as a JSON array
// so any scope string survives; an empty list comes back as nil.
func (s *Store) InsertAPIKey(ctx context.Context, k *store.APIKey, ev audit.Event) error {
	switch {
	case k == nil:
		return fmt.Errorf("%s: insert API key: key is nil", s.d.Name)
	case k.ID == "":
		return fmt.Errorf("%s: insert API key %q: ID is empty", s.d.Name, k.Name)
	case len(k.Hash) != sha256.Size:
		return fmt.Errorf("%s: insert API key %s: Hash has %d bytes, want a SHA-256 (%d)", s.d.Name, k.ID, len(k.Hash), sha256.Size)
	case k.CreatedAt.IsZero():
		return fmt.Errorf("%s: insert API key %s: CreatedAt is zero", s.d.Name, k.ID)
	case !k.RevokedAt.IsZero():
		return fmt.Errorf("%s: insert API key %s: RevokedAt is set on a new key", s.d.Name, k.ID)
	}
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("%s: insert API key %s: %w", s.d.Name, k.ID, err)
	}
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	js, err := json.Marshal(scopes)
	if err != nil {
		return fmt.Errorf("%s: insert API key %s: Scopes: %w", s.d.Name, k.ID, err)
	}
	return s.w.do(ctx, func(t *wtx) error {
		_, err := t.exec(`INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
			k.ID, k.Name, k.Hash, string(js), micros(k.CreatedAt), nil)
		if err != nil {
			if t.s.d.IsDuplicate(err) {
				return fmt.Errorf("%s: API key %s: %w", t.s.d.Name, k.ID, store.ErrDuplicate)
			}
			return fmt.Errorf("%s: insert API key %s: %w", t.s.d.Name, k.ID, err)
		}
		return t.appendAudit(ev)
	})
}

// APIKey returns the key with this ID, revoked or not.
func (s *Store) APIKey(ctx context.Context, id string) (*store.APIKey, error) {
	k, err := scanAPIKey(s.read.QueryRowContext(ctx, s.q(`SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s: API key %s: %w", s.d.Name, id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read API key %s: %w", s.d.Name, id, err)
	}
	return k, nil
}

// ListAPIKeys returns every API key, oldest first (ties broken by ID).
func (s *Store) ListAPIKeys(ctx context.Context) ([]*store.APIKey, error) {
	rows, err := s.read.QueryContext(ctx, s.q(`SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id`))
	if err != nil {
		return nil, fmt.Errorf("%s: list API keys: %w", s.d.Name, err)
	}
	defer rows.Close()
	var out []*store.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: list API keys: %w", s.d.Name, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: list API keys: %w", s.d.Name, err)
	}
	return out, nil
}

// RevokeAPIKey deactivates a key at the given time; a second call changes
// nothing and writes no audit entry.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time, ev audit.Event) error {
	if at.IsZero() {
		return fmt.Errorf("%s: revoke API key %s: revocation time is zero", s.d.Name, id)
	}
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("%s: revoke API key %s: %w", s.d.Name, id, err)
	}
	return s.w.do(ctx, func(t *wtx) error {
		res, err := t.exec(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
		if err != nil {
			return fmt.Errorf("%s: revoke API key %s: %w", t.s.d.Name, id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("%s: revoke API key %s: %w", t.s.d.Name, id, err)
		}
		if n == 1 {
			return t.appendAudit(ev)
		}
		// Nothing changed: either revoked already, or no such key.
		var one int
		err = t.queryRow(`SELECT 1 FROM api_keys WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%s: API key %s: %w", t.s.d.Name, id, store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("%s: revoke API key %s: %w", t.s.d.Name, id, err)
		}
		return nil
	})
}
