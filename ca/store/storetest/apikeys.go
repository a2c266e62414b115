package storetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
)

func sameKey(t *testing.T, got, want *store.APIKey) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || !bytes.Equal(got.Hash, want.Hash) ||
		!slices.Equal(got.Scopes, want.Scopes) || !got.CreatedAt.Equal(want.CreatedAt) || !got.RevokedAt.Equal(want.RevokedAt) {
		t.Errorf("API key %s:\n got %+v\nwant %+v", want.ID, got, want)
	}
}

func testAPIKeys(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	// Inserted in an order that differs from creation order, so "oldest
	// first" is tested rather than "as inserted".
	keys := []*store.APIKey{
		{ID: "k-zus", Name: "ZUS PUE backend", Hash: hashOf("secret 1"), Scopes: []string{"issue", "revoke"}, CreatedAt: base.Add(2 * time.Hour)},
		{ID: "k-puesc", Name: "PUESC backend", Hash: hashOf("secret 2"), Scopes: []string{"issue", "scope with spaces, \"quotes\""}, CreatedAt: base},
		{ID: "k-none", Name: "no scopes", Hash: hashOf("secret 3"), CreatedAt: base.Add(time.Hour)},
	}
	for i, k := range keys {
		if err := s.InsertAPIKey(ctx, k, event(audit.KindAPIKeyCreated, k.ID, i)); err != nil {
			t.Fatalf("InsertAPIKey(%s): %v", k.ID, err)
		}
	}
	for _, k := range keys {
		got, err := s.APIKey(ctx, k.ID)
		if err != nil {
			t.Fatalf("APIKey(%s): %v", k.ID, err)
		}
		sameKey(t, got, k)
	}
	dup := *keys[0]
	dup.Name = "impostor"
	wantErr(t, "InsertAPIKey with a taken ID", s.InsertAPIKey(ctx, &dup, event(audit.KindAPIKeyCreated, dup.ID, 9)), store.ErrDuplicate)
	if got, _ := s.APIKey(ctx, dup.ID); got == nil || got.Name != keys[0].Name {
		t.Errorf("after a duplicate insert: APIKey(%s) = %+v, want the original", dup.ID, got)
	}
	_, err := s.APIKey(ctx, "k-unknown")
	wantErr(t, "APIKey(unknown)", err, store.ErrNotFound)

	list, err := s.ListAPIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range list {
		ids = append(ids, k.ID)
	}
	if want := []string{"k-puesc", "k-none", "k-zus"}; !slices.Equal(ids, want) {
		t.Fatalf("ListAPIKeys = %v, want %v (oldest first)", ids, want)
	}

	revokedAt := base.Add(3 * time.Hour)
	for i := range 2 {
		if err := s.RevokeAPIKey(ctx, "k-zus", revokedAt.Add(time.Duration(i)*time.Hour), event(audit.KindAPIKeyRevoked, "k-zus", i)); err != nil {
			t.Fatalf("RevokeAPIKey #%d: %v", i+1, err)
		}
	}
	got, err := s.APIKey(ctx, "k-zus")
	if err != nil {
		t.Fatal(err)
	}
	want := *keys[0]
	want.RevokedAt = revokedAt // the first revocation's time stands
	sameKey(t, got, &want)
	wantErr(t, "RevokeAPIKey(unknown)", s.RevokeAPIKey(ctx, "k-unknown", revokedAt, event(audit.KindAPIKeyRevoked, "k-unknown", 0)), store.ErrNotFound)

	list, err = s.ListAPIKeys(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("ListAPIKeys after revocation = %d keys, %v; want 3 (revoked keys stay listed)", len(list), err)
	}
	// Three creations and one revocation.
	entries := wantChainLen(t, s, 4)
	if last := entries[3]; last.Kind != audit.KindAPIKeyRevoked || last.Object != "k-zus" {
		t.Errorf("last audit entry = %s %s, want %s k-zus", last.Kind, last.Object, audit.KindAPIKeyRevoked)
	}
}

func testAPIKeyInvalid(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	valid := func() *store.APIKey {
		return &store.APIKey{ID: "k1", Name: "n", Hash: hashOf("s"), CreatedAt: base}
	}
	tests := []struct {
		name string
		key  func() *store.APIKey
	}{
		{"nil", func() *store.APIKey { return nil }},
		{"empty ID", func() *store.APIKey { k := valid(); k.ID = ""; return k }},
		{"short hash", func() *store.APIKey { k := valid(); k.Hash = k.Hash[:16]; return k }},
		{"zero CreatedAt", func() *store.APIKey { k := valid(); k.CreatedAt = time.Time{}; return k }},
		{"already revoked", func() *store.APIKey { k := valid(); k.RevokedAt = base; return k }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.InsertAPIKey(ctx, tc.key(), event(audit.KindAPIKeyCreated, "k1", 0))
			if err == nil || errors.Is(err, store.ErrDuplicate) {
				t.Fatalf("InsertAPIKey: error %v, want a validation error", err)
			}
		})
	}
	if err := s.RevokeAPIKey(ctx, "k1", time.Time{}, event(audit.KindAPIKeyRevoked, "k1", 0)); err == nil {
		t.Error("RevokeAPIKey with a zero time succeeded")
	}
	if list, err := s.ListAPIKeys(ctx); err != nil || len(list) != 0 {
		t.Errorf("ListAPIKeys after invalid inserts = %v, %v; want none", list, err)
	}
	wantChainLen(t, s, 0)
}
