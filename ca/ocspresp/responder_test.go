package ocspresp_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"esig/api/apitest"
	"esig/app"
	"esig/ca/audit"
	"esig/ca/hierarchy"
	"esig/ca/ocspresp"
)

func post(t *testing.T, env *apitest.Env, req []byte) []byte {
	t.Helper()
	resp, err := http.Post(env.URL+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	b, _ := io.ReadAll(resp.Body)
	return b
}

func TestResponses(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	issuer := env.App.Hierarchy.Issuing
	// The TSA certificate is in the store like any subscriber's.
	cert := env.App.TSACert
	good, _ := ocsp.CreateRequest(cert, issuer, nil)
	sha256Req, _ := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
	unknownCert := *cert
	unknownCert.SerialNumber = new(big.Int).Add(cert.SerialNumber, big.NewInt(1))
	unknown, _ := ocsp.CreateRequest(&unknownCert, issuer, nil)
	otherIssuer := *issuer
	otherIssuer.RawSubject = env.App.Hierarchy.Root.RawSubject
	unauthorized, _ := ocsp.CreateRequest(cert, &otherIssuer, nil)

	tests := []struct {
		name   string
		req    []byte
		status int // ocsp.Good etc. for successful responses
		errorr error
	}{
		{"good", good, ocsp.Good, nil},
		{"sha256 cert id", sha256Req, ocsp.Good, nil},
		{"unknown serial", unknown, ocsp.Unknown, nil},
		{"other issuer", unauthorized, 0, ocsp.ResponseError{Status: ocsp.Unauthorized}},
		{"garbage", []byte("garbage"), 0, ocsp.ResponseError{Status: ocsp.Malformed}},
		{"truncated", good[:len(good)-3], 0, ocsp.ResponseError{Status: ocsp.Malformed}},
		{"empty", nil, 0, ocsp.ResponseError{Status: ocsp.Malformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der := post(t, env, tt.req)
			var target *x509.Certificate
			if tt.status == ocsp.Good {
				target = cert
			}
			resp, err := ocsp.ParseResponseForCert(der, target, issuer)
			if tt.errorr != nil {
				if err != tt.errorr {
					t.Fatalf("error %v, want %v", err, tt.errorr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.status {
				t.Fatalf("status %d, want %d", resp.Status, tt.status)
			}
			if resp.Certificate == nil || !resp.Certificate.Equal(env.App.OCSPCert) {
				t.Error("response does not carry the delegated responder certificate")
			}
			if !resp.NextUpdate.After(resp.ThisUpdate) {
				t.Errorf("nextUpdate %v not after thisUpdate %v", resp.NextUpdate, resp.ThisUpdate)
			}
		})
	}
	// GET form (RFC 6960 A.1), URL-encoded base64.
	r, err := http.Get(env.URL + "/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(good)))
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if resp, err := ocsp.ParseResponseForCert(der, cert, issuer); err != nil || resp.Status != ocsp.Good || r.Header.Get("Cache-Control") == "" {
		t.Fatalf("GET: %v %v Cache-Control=%q", resp, err, r.Header.Get("Cache-Control"))
	}
	// Pre-signed: asking twice returns the same bytes, no new signature.
	if a, b := post(t, env, good), post(t, env, good); !bytes.Equal(a, b) {
		t.Error("a cached answer was signed again")
	}
}

// TestRevocationReachesOtherResponders revokes behind the back of a second
// responder on the same store and expects its Watch loop to drop the
// cached good answer within the propagation interval.
func TestRevocationReachesOtherResponders(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	a := env.App
	cert := a.TSACert
	other, err := ocspresp.New(ocspresp.Config{
		Store: a.Store, Issuer: a.Hierarchy.Issuing, Responder: a.OCSPCert, Signer: mustOCSPKey(t, env), Validity: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go other.Watch(ctx, 50*time.Millisecond)
	req, _ := ocsp.CreateRequest(cert, a.Hierarchy.Issuing, nil)
	status := func() int {
		der, err := other.Respond(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ocsp.ParseResponseForCert(der, cert, a.Hierarchy.Issuing)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Status
	}
	if s := status(); s != ocsp.Good {
		t.Fatalf("status %d before revocation", s)
	}
	details, _ := json.Marshal(map[string]string{"reason": "keyCompromise"})
	// Revoke through the store only, as another replica would.
	if _, _, err := a.Store.Revoke(ctx, hexSerial(cert), 1, time.Now(), audit.Event{Kind: audit.KindCertificateRevoked, Actor: "test", Object: hexSerial(cert), Details: details}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for status() != ocsp.Revoked {
		if time.Now().After(deadline) {
			t.Fatal("the other responder still answers good 2s after the revocation")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func hexSerial(c *x509.Certificate) string { return fmt.Sprintf("%x", c.SerialNumber.Bytes()) }

func mustOCSPKey(t *testing.T, env *apitest.Env) crypto.Signer {
	t.Helper()
	opts, err := app.HierarchyOptions(env.App.Config)
	if err != nil {
		t.Fatal(err)
	}
	k, err := env.App.Hierarchy.OpenKey(opts, hierarchy.RoleOCSP)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
