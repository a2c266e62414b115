package softhsmtest_test

import (
	"errors"
	"testing"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"esig/internal/pkcs11uri"
	"esig/internal/softhsmtest"
)

// TestTokensAfterInitialize makes tokens after the library is initialised in
// this process (the first New initialises it) and checks that each one can
// be logged into through crypto11, as package keys will do.
func TestTokensAfterInitialize(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		tok := softhsmtest.New(t)
		if seen[tok.Label] || tok.Label == "" || tok.Serial == "" {
			t.Fatalf("token %d: label %q serial %q (seen before: %v)", i, tok.Label, tok.Serial, seen[tok.Label])
		}
		seen[tok.Label] = true

		ctx, err := crypto11.Configure(&crypto11.Config{Path: tok.ModulePath, TokenLabel: tok.Label, Pin: tok.PIN})
		if err != nil {
			t.Fatalf("token %d (%s): crypto11.Configure: %v", i, tok.Label, err)
		}
		if err := ctx.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWrongPINRefused(t *testing.T) {
	tok := softhsmtest.New(t)
	_, err := crypto11.Configure(&crypto11.Config{Path: tok.ModulePath, TokenLabel: tok.Label, Pin: tok.PIN + "x"})
	if !errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_INCORRECT)) {
		t.Fatalf("Configure with a wrong PIN: %v; want CKR_PIN_INCORRECT", err)
	}
}

func TestURI(t *testing.T) {
	tok := softhsmtest.New(t)
	u, err := pkcs11uri.Parse(tok.URI("klucz CA/2026"))
	if err != nil {
		t.Fatal(err)
	}
	if u.Token != tok.Label || u.Object != "klucz CA/2026" || u.ModulePath != tok.ModulePath || u.PINValue() != tok.PIN {
		t.Fatalf("URI(%q) parsed to token=%q object=%q module-path=%q", tok.URI("klucz CA/2026"), u.Token, u.Object, u.ModulePath)
	}
	if u, err := pkcs11uri.Parse(tok.URI("")); err != nil || u.Has(pkcs11uri.AttrObject) {
		t.Fatalf("URI(\"\") = %v, %v; want no object attribute", u, err)
	}
}

func TestSession(t *testing.T) {
	tok := softhsmtest.New(t)
	ctx, sh := tok.Session(t)
	info, err := ctx.GetSessionInfo(sh)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != pkcs11.CKS_RW_USER_FUNCTIONS {
		t.Fatalf("session state %d, want CKS_RW_USER_FUNCTIONS (logged in, read-write)", info.State)
	}
	// A fresh token holds no objects.
	if err := ctx.FindObjectsInit(sh, nil); err != nil {
		t.Fatal(err)
	}
	objs, _, err := ctx.FindObjects(sh, 10)
	ctx.FindObjectsFinal(sh)
	if err != nil || len(objs) != 0 {
		t.Fatalf("fresh token holds %d objects (%v)", len(objs), err)
	}
}
