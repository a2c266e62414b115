package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"esig/ca/audit"
)

// walkChunk is how many audit entries WalkAudit reads per query. Reading in
// chunks keeps no read transaction open while fn runs, so fn may itself use
// the store.
const walkChunk = 500

// checkEvent rejects an event the chain should not carry.
func checkEvent(ev audit.Event) error {
	switch {
	case ev.Kind == "":
		return errors.New("audit event: Kind is empty")
	case len(ev.Details) > 0 && !json.Valid(ev.Details):
		return fmt.Errorf("audit event %s: Details is not valid JSON", ev.Kind)
	}
	return nil
}

// AppendAudit records an event that changes no table.
func (s *Store) AppendAudit(ctx context.Context, ev audit.Event) error {
	if err := checkEvent(ev); err != nil {
		return fmt.Errorf("%s: %w", s.d.Name, err)
	}
	return s.w.do(ctx, func(t *wtx) error { return t.appendAudit(ev) })
}

// WalkAudit calls fn for every audit entry in order of Seq. Entries are read
// as stored, without checking them: that is audit.Verifier's job.
func (s *Store) WalkAudit(ctx context.Context, fn func(audit.Entry) error) error {
	var after int64
	for {
		chunk, err := s.auditChunk(ctx, after)
		if err != nil {
			return err
		}
		for _, e := range chunk {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(chunk) < walkChunk {
			return nil
		}
		after = chunk[len(chunk)-1].Seq
	}
}

func (s *Store) auditChunk(ctx context.Context, after int64) ([]audit.Entry, error) {
	rows, err := s.read.QueryContext(ctx,
		s.q(`SELECT seq, time_us, kind, actor, object, details, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`),
		after, walkChunk)
	if err != nil {
		return nil, fmt.Errorf("%s: read audit entries after %d: %w", s.d.Name, after, err)
	}
	defer rows.Close()
	out := make([]audit.Entry, 0, walkChunk)
	for rows.Next() {
		var (
			e          audit.Entry
			us         int64
			details    string
			prev, hash []byte
		)
		if err := rows.Scan(&e.Seq, &us, &e.Kind, &e.Actor, &e.Object, &details, &prev, &hash); err != nil {
			return nil, fmt.Errorf("%s: read audit entries after %d: %w", s.d.Name, after, err)
		}
		// A hash of the wrong length is kept visible rather than refused:
		// copy leaves the rest zero and the Verifier names the entry.
		copy(e.PrevHash[:], prev)
		copy(e.Hash[:], hash)
		e.Time = fromMicros(us)
		e.Details = json.RawMessage(details)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: read audit entries after %d: %w", s.d.Name, after, err)
	}
	return out, nil
}
