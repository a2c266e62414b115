package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"esig/ca/store"
)

func TestNewKey(t *testing.T) {
	token, k, err := NewKey(" portal ", []string{ScopeIssue, ScopeRead}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id, secret, ok := parseToken(token)
	if !ok || id != k.ID || len(k.Hash) != 32 || k.Name != "portal" {
		t.Fatalf("token %q key %+v", token, k)
	}
	if strings.Contains(string(k.Hash), secret) {
		t.Fatal("the secret is stored")
	}
	tests := []struct {
		name   string
		kname  string
		scopes []string
		field  string
	}{
		{"empty name", " ", []string{ScopeRead}, "name"},
		{"no scopes", "x", nil, "scopes"},
		{"unknown scope", "x", []string{"certificates:delete"}, "scopes"},
		{"twice", "x", []string{ScopeRead, ScopeRead}, "scopes"},
	}
	for _, tt := range tests {
		_, _, err := NewKey(tt.kname, tt.scopes, time.Now())
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: %v, want a FieldError on %s", tt.name, err, tt.field)
		}
	}
}

func TestParseTokenAndScopes(t *testing.T) {
	good := "esig_0123456789abcdef_" + strings.Repeat("A", 43)
	for _, tt := range []struct {
		token string
		ok    bool
	}{{good, true}, {"esig_0123456789abcdef", false}, {"esig_0123_" + strings.Repeat("A", 43), false}, {"bearer " + good, false}, {"", false}} {
		if _, _, ok := parseToken(tt.token); ok != tt.ok {
			t.Errorf("parseToken(%q) = %v", tt.token, ok)
		}
	}
	admin := &store.APIKey{Scopes: []string{ScopeAdmin}}
	reader := &store.APIKey{Scopes: []string{ScopeRead}}
	if !HasScope(admin, ScopeRevoke) || !HasScope(reader, ScopeRead) || HasScope(reader, ScopeIssue) {
		t.Error("HasScope")
	}
}
