package issuance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestLintSets guards against running fewer lints than meant: zlint's lints
// register themselves from their packages' init, so a missing import would
// leave an empty registry that passes everything.
func TestLintSets(t *testing.T) {
	all, issuance := allLints(), issuanceLints()
	if len(all.lints) < 400 {
		t.Errorf("the full registry has %d certificate lints, want over 400", len(all.lints))
	}
	if len(issuance.lints) < 170 {
		t.Errorf("the issuance set has %d certificate lints, want over 170", len(issuance.lints))
	}
	names := map[string]bool{}
	for _, l := range issuance.lints {
		names[l.Name] = true
	}
	for _, want := range []string{"e_ext_key_usage_cert_sign_without_ca", "e_qcstatem_etsi_type_as_statem", "w_subject_dn_trailing_whitespace", "w_ext_subject_key_identifier_missing_sub_cert"} {
		if !names[want] {
			t.Errorf("the issuance set lacks %s", want)
		}
	}
	for _, gone := range excludedLints {
		if names[gone] {
			t.Errorf("the issuance set runs the excluded %s", gone)
		}
	}
}

// TestLinterRefuses builds certificates that break lints and expects Check
// to refuse each, naming the lint.
func TestLinterRefuses(t *testing.T) {
	iss := testIssuer(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now().Truncate(time.Second)
	spki, _ := x509.MarshalPKIXPublicKey(key.Public())
	skid, _ := subjectKeyID(spki)
	name := func(cn string) []byte {
		der, _ := asn1.Marshal(pkix.Name{Country: []string{"PL"}, CommonName: cn}.ToRDNSequence())
		return der
	}
	base := func() *certBody {
		return &certBody{
			serial: big.NewInt(1234567), sigAlg: iss.linter.alg, issuer: iss.Certificate().RawSubject,
			subject: name("Jan Kowalski"), spki: spki, notBefore: now, notAfter: now.Add(365 * 24 * time.Hour),
			keyUsage: x509.KeyUsageDigitalSignature, skid: skid, akid: iss.Certificate().SubjectKeyId,
		}
	}
	if _, err := iss.linter.Check(base()); err != nil {
		t.Fatalf("the sound base certificate was refused: %v", err)
	}
	tests := []struct {
		name   string
		modify func(*certBody)
		lint   string
	}{
		{"trailing space in the subject", func(c *certBody) { c.subject = name("Jan Kowalski ") }, "w_subject_dn_trailing_whitespace"},
		{"certSign on a leaf", func(c *certBody) { c.keyUsage |= x509.KeyUsageCertSign }, "e_ext_key_usage_cert_sign_without_ca"},
		{"no subject key identifier", func(c *certBody) { c.skid = nil }, "w_ext_subject_key_identifier_missing_sub_cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.modify(c)
			_, err := iss.linter.Check(c)
			var le *LintError
			if !errors.As(err, &le) || !strings.Contains(strings.Join(le.Lints, "\n"), tt.lint) {
				t.Fatalf("error %v, want a LintError naming %s", err, tt.lint)
			}
		})
	}
}
