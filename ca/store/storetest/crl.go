package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

func newCRL(shard int, number int64) *store.CRL {
	this := base.Add(time.Duration(number) * time.Hour)
	return &store.CRL{
		Shard:      shard,
		Number:     number,
		ThisUpdate: this,
		NextUpdate: this.Add(24 * time.Hour),
		DER:        []byte(fmt.Sprintf("CRL %d of shard %d", number, shard)),
	}
}

func testCRL(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	if _, err := s.LatestCRL(ctx, 0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LatestCRL on an empty store: error %v, want ErrNotFound", err)
	}
	tests := []struct {
		shard      int
		number     int64
		wantErr    error
		wantLatest int64 // of the shard, after the call
	}{
		{0, 1, nil, 1},
		{0, 1, store.ErrConflict, 1}, // same number again
		{0, 0, store.ErrConflict, 1}, // going back
		{0, 5, nil, 5},               // gaps are fine
		{1, 1, nil, 1},               // shards are independent
		{1, 0, store.ErrConflict, 1},
		{0, 4, store.ErrConflict, 5},
		{0, 6, nil, 6},
	}
	audited := 0
	for i, tc := range tests {
		c := newCRL(tc.shard, tc.number)
		err := s.SaveCRL(ctx, c, event(audit.KindCRLPublished, fmt.Sprint(tc.shard), i))
		if tc.wantErr != nil {
			wantErr(t, fmt.Sprintf("step %d: SaveCRL(shard %d, number %d)", i, tc.shard, tc.number), err, tc.wantErr)
		} else if err != nil {
			t.Fatalf("step %d: SaveCRL(shard %d, number %d): %v", i, tc.shard, tc.number, err)
		} else {
			audited++
		}
		got, err := s.LatestCRL(ctx, tc.shard)
		if err != nil {
			t.Fatalf("step %d: LatestCRL(%d): %v", i, tc.shard, err)
		}
		want := newCRL(tc.shard, tc.wantLatest)
		if got.Shard != want.Shard || got.Number != want.Number || !bytes.Equal(got.DER, want.DER) ||
			!got.ThisUpdate.Equal(want.ThisUpdate) || !got.NextUpdate.Equal(want.NextUpdate) {
			t.Fatalf("step %d: LatestCRL(%d) = %+v, want %+v", i, tc.shard, got, want)
		}
	}
	entries := wantChainLen(t, s, audited)
	for _, e := range entries {
		if e.Kind != audit.KindCRLPublished {
			t.Errorf("audit entry %d: kind %s, want %s", e.Seq, e.Kind, audit.KindCRLPublished)
		}
	}
}

func testCRLInvalid(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	tests := []struct {
		name string
		crl  func() *store.CRL
	}{
		{"nil", func() *store.CRL { return nil }},
		{"negative shard", func() *store.CRL { c := newCRL(0, 1); c.Shard = -1; return c }},
		{"negative number", func() *store.CRL { return newCRL(0, -1) }},
		{"empty DER", func() *store.CRL { c := newCRL(0, 1); c.DER = nil; return c }},
		{"zero ThisUpdate", func() *store.CRL { c := newCRL(0, 1); c.ThisUpdate = time.Time{}; return c }},
		{"NextUpdate before ThisUpdate", func() *store.CRL { c := newCRL(0, 1); c.NextUpdate = c.ThisUpdate.Add(-time.Second); return c }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.SaveCRL(ctx, tc.crl(), event(audit.KindCRLPublished, "0", 0))
			if err == nil || errors.Is(err, store.ErrConflict) {
				t.Fatalf("SaveCRL: error %v, want a validation error", err)
			}
		})
	}
	if _, err := s.LatestCRL(ctx, 0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LatestCRL after invalid saves: error %v, want ErrNotFound", err)
	}
	wantChainLen(t, s, 0)
}
