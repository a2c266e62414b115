package ocspresp

import (
	"bytes"
	"crypto"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
)

// The request structures, encoded with encoding/asn1 so the test builds
// requests independently of the cryptobyte parser under test.
type testCertID struct {
	HashAlgorithm  pkix.AlgorithmIdentifier
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	SerialNumber   *big.Int
}

type testSingle struct {
	Cert       testCertID
	Extensions []pkix.Extension `asn1:"explicit,tag:0,optional"`
}

type testTBS struct {
	Version       int           `asn1:"explicit,tag:0,optional"`
	RequestorName asn1.RawValue `asn1:"explicit,tag:1,optional"`
	RequestList   []testSingle
	Extensions    []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type testRequest struct {
	TBS       testTBS
	Signature asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

// withVersion encodes req with its version field written out: encoding/asn1
// omits a zero optional field, so an explicit v1 is spliced in by hand.
func withVersion(t *testing.T, req testRequest, v int) []byte {
	t.Helper()
	der := mustMarshal(t, req)
	// Re-encode the TBS with the version field written out.
	ver, _ := asn1.Marshal(v)
	verField := append([]byte{0xa0, byte(len(ver))}, ver...)
	var outer asn1.RawValue
	asn1.Unmarshal(der, &outer)
	var tbs asn1.RawValue
	rest, _ := asn1.Unmarshal(outer.Bytes, &tbs)
	tbs.Bytes = append(verField, tbs.Bytes...)
	tbs.FullBytes = nil
	newTBS, _ := asn1.Marshal(tbs)
	out, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: append(newTBS, rest...)})
	return out
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	der, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestParseRequest(t *testing.T) {
	nameHash, keyHash := bytes.Repeat([]byte{1}, 20), bytes.Repeat([]byte{2}, 20)
	id := func(alg asn1.ObjectIdentifier, serial int64) testCertID {
		return testCertID{
			HashAlgorithm:  pkix.AlgorithmIdentifier{Algorithm: alg, Parameters: asn1.NullRawValue},
			IssuerNameHash: nameHash, IssuerKeyHash: keyHash, SerialNumber: big.NewInt(serial),
		}
	}
	one := func(c testCertID, exts ...pkix.Extension) testRequest {
		return testRequest{TBS: testTBS{RequestList: []testSingle{{Cert: c}}, Extensions: exts}}
	}
	nonce := pkix.Extension{Id: oidNonce, Value: []byte{4, 2, 0xca, 0xfe}}
	other := pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3}, Critical: true, Value: []byte{5, 0}}
	good := mustMarshal(t, one(id(oidSHA1, 1234)))
	noParams := one(id(oidSHA256, 7))
	noParams.TBS.RequestList[0].Cert.HashAlgorithm.Parameters = asn1.RawValue{}
	badParams := one(id(oidSHA256, 7))
	badParams.TBS.RequestList[0].Cert.HashAlgorithm.Parameters = asn1.RawValue{FullBytes: []byte{2, 1, 5}}
	named := one(id(oidSHA1, 9))
	// encoding/asn1 writes a RawValue as it is, ignoring the field's
	// explicit tag, so the [1] and [0] wrappers are spelled out.
	named.TBS.RequestorName = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 1, IsCompound: true, Bytes: []byte{0xa4, 2, 0x30, 0}}
	signed := one(id(oidSHA1, 9))
	signed.Signature = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: []byte{0x30, 2, 5, 0}}
	singleExt := one(id(oidSHA1, 9))
	singleExt.TBS.RequestList[0].Extensions = []pkix.Extension{other}
	two := testRequest{TBS: testTBS{RequestList: []testSingle{{Cert: id(oidSHA1, 1)}, {Cert: id(oidSHA1, 2)}}}}
	none := testRequest{TBS: testTBS{RequestList: []testSingle{}}}

	tests := []struct {
		name    string
		der     []byte
		hash    crypto.Hash
		serial  int64
		nonce   []byte
		wantErr string // a part of the error; "" for success
	}{
		{"sha1", good, crypto.SHA1, 1234, nil, ""},
		{"sha256 without parameters", mustMarshal(t, noParams), crypto.SHA256, 7, nil, ""},
		{"sha384", mustMarshal(t, one(id(oidSHA384, 8))), crypto.SHA384, 8, nil, ""},
		{"sha512", mustMarshal(t, one(id(oidSHA512, 8))), crypto.SHA512, 8, nil, ""},
		{"nonce", mustMarshal(t, one(id(oidSHA1, 5), other, nonce)), crypto.SHA1, 5, nonce.Value, ""},
		{"explicit v1", withVersion(t, one(id(oidSHA1, 3)), 0), crypto.SHA1, 3, nil, ""},
		{"requestor name", mustMarshal(t, named), crypto.SHA1, 9, nil, ""},
		{"signed request", mustMarshal(t, signed), crypto.SHA1, 9, nil, ""},
		{"single request extensions", mustMarshal(t, singleExt), crypto.SHA1, 9, nil, ""},
		{"v2", withVersion(t, one(id(oidSHA1, 3)), 1), 0, 0, nil, "version must be v1"},
		{"empty", nil, 0, 0, nil, "not a DER SEQUENCE"},
		{"garbage", []byte("garbage"), 0, 0, nil, "not a DER SEQUENCE"},
		{"trailing data", append(append([]byte{}, good...), 0), 0, 0, nil, "trailing data"},
		{"two certificates", mustMarshal(t, two), 0, 0, nil, "asks about 2 certificates"},
		{"no certificate", mustMarshal(t, none), 0, 0, nil, "asks about 0 certificates"},
		{"md5", mustMarshal(t, one(id(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}, 1))), 0, 0, nil, "unsupported CertID hash algorithm"},
		{"hash parameters", mustMarshal(t, badParams), 0, 0, nil, "has parameters"},
		{"zero serial", mustMarshal(t, one(id(oidSHA1, 0))), 0, 0, nil, "not positive"},
		{"negative serial", mustMarshal(t, one(id(oidSHA1, -5))), 0, 0, nil, "not positive"},
		{"empty nonce", mustMarshal(t, one(id(oidSHA1, 5), pkix.Extension{Id: oidNonce, Value: []byte{}})), 0, 0, nil, "nonce of 0 bytes"},
		{"huge nonce", mustMarshal(t, one(id(oidSHA1, 5), pkix.Extension{Id: oidNonce, Value: make([]byte, maxNonce+1)})), 0, 0, nil, "nonce of 129 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseRequest(tt.der)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, errMalformed) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want a malformed-request error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.hash != tt.hash || r.serial.Int64() != tt.serial || !bytes.Equal(r.issuerNameHash, nameHash) || !bytes.Equal(r.issuerKeyHash, keyHash) {
				t.Errorf("got hash %v serial %v name %x key %x", r.hash, r.serial, r.issuerNameHash, r.issuerKeyHash)
			}
			switch {
			case tt.nonce == nil && r.nonce != nil:
				t.Errorf("nonce %x, want none", r.nonce.Value)
			case tt.nonce != nil && (r.nonce == nil || !bytes.Equal(r.nonce.Value, tt.nonce) || !r.nonce.Id.Equal(oidNonce)):
				t.Errorf("nonce %v, want %x", r.nonce, tt.nonce)
			}
		})
	}
	// Every truncation of a sound request is refused, and none panics.
	for n := range len(good) {
		if _, err := parseRequest(good[:n]); err == nil {
			t.Errorf("a request cut to %d of %d bytes was accepted", n, len(good))
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := parseRequest(der)
		if err == nil && (r.serial.Sign() <= 0 || r.hash == 0) {
			t.Fatalf("accepted a request with serial %v hash %v", r.serial, r.hash)
		}
	})
}
