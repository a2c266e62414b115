package xades_test

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/beevik/etree"

	"esig/internal/cms"
	"esig/internal/testpki"
	"esig/internal/xmldsig"
	xsign "esig/signer/xades"
	"esig/verifier/report"
	"esig/verifier/xades"
)

// TestVerdicts covers the verdicts a XAdES signature can get from what is
// wrong with it, one edit each.
func TestVerdicts(t *testing.T) {
	f := newFixture(t)
	enveloped := f.sign(t, nil, xmlDoc, xsign.Options{Packaging: xsign.Enveloped})
	detached := f.sign(t, nil, binDoc, xsign.Options{Packaging: xsign.Detached, Name: "faktura.pdf"})
	twin := f.p.Leaf(t, testpki.LeafOptions{Name: "Ktoś Inny", SignerKey: f.rsa.Key})
	cases := []struct {
		name     string
		data     []byte
		detached map[string][]byte
		ind      report.Indication
		sub      report.SubIndication
		contains []string
	}{
		{"intact", enveloped, nil, report.TotalPassed, "", nil},
		{"signed text changed", edit(t, enveloped, func(d *etree.Document) { d.FindElement("//Kwota").SetText("1500.01") }),
			nil, report.TotalFailed, report.HashFailure, []string{"URI \"\""}},
		{"signed property changed", edit(t, enveloped, func(d *etree.Document) {
			d.FindElement("//SigningTime").SetText("2020-01-01T00:00:00Z")
		}), nil, report.TotalFailed, report.HashFailure, []string{"SignedProperties were altered"}},
		{"signature value changed", edit(t, enveloped, func(d *etree.Document) {
			sv := d.FindElement("//SignatureValue")
			b, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(sv.Text()), ""))
			b[len(b)/2] ^= 0x20
			sv.SetText(base64.StdEncoding.EncodeToString(b))
		}), nil, report.TotalFailed, report.SigCryptoFailure, nil},
		{"KeyInfo certificate replaced by one for the same key", edit(t, enveloped, func(d *etree.Document) {
			// KeyInfo is not signed: the substitute verifies the value,
			// but the signed SigningCertificateV2 names the original.
			for _, c := range d.FindElements("//X509Certificate") {
				c.Parent().RemoveChild(c)
			}
			d.FindElement("//X509Data").CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(twin.Cert.Raw))
		}), nil, report.Indeterminate, report.NoSigningCertificateFound, []string{"matches no Cert entry"}},
		{"detached content supplied", detached, map[string][]byte{"faktura.pdf": binDoc}, report.TotalPassed, "", nil},
		{"detached content not supplied", detached, nil, report.Indeterminate, report.SignedDataNotFound, []string{"faktura.pdf"}},
		{"other content supplied", detached, map[string][]byte{"faktura.pdf": []byte("inna")}, report.TotalFailed, report.HashFailure, []string{"faktura.pdf"}},
		{"content not supplied, signature value forged", edit(t, detached, func(d *etree.Document) {
			sv := d.FindElement("//SignatureValue")
			b, _ := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(sv.Text()), ""))
			b[3] ^= 1
			sv.SetText(base64.StdEncoding.EncodeToString(b))
		}), nil, report.TotalFailed, report.SigCryptoFailure, nil},
		{"not XML", []byte("%PDF-1.4"), nil, report.TotalFailed, report.FormatFailure, nil},
	}
	t.Run("altered properties claim nothing", func(t *testing.T) {
		s := only(t, f.verify(t, edit(t, enveloped, func(d *etree.Document) {
			d.FindElement("//SigningTime").SetText("2020-01-01T00:00:00Z")
		}), nil))
		if s.Properties != nil || s.Report.SigningTime != nil {
			t.Errorf("altered SignedProperties exposed: %+v, signing time %v", s.Properties, s.Report.SigningTime)
		}
	})
	t.Run("no signature", func(t *testing.T) {
		r := f.verify(t, xmlDoc, nil)
		if len(r.Signatures) != 0 || r.Report.Indication != report.NoSignatureFound {
			t.Errorf("%d signatures, indication %s", len(r.Signatures), r.Report.Indication)
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := only(t, f.verify(t, c.data, c.detached))
			expect(t, s.Report, c.ind, c.sub, c.contains...)
		})
	}
}

// edit applies change to a copy of a signed document.
func edit(t *testing.T, data []byte, change func(*etree.Document)) []byte {
	t.Helper()
	d := parse(t, data)
	change(d)
	return serialize(t, d)
}

// TestSigningCertificateIssuerSerial requires the issuer and serial of the
// SigningCertificateV2 entry to name the certificate its digest names.
func TestSigningCertificateIssuerSerial(t *testing.T) {
	f := newFixture(t)
	issuerSerial := func(issuer []byte, serial *big.Int) string {
		s, _ := asn1.Marshal(serial)
		return base64.StdEncoding.EncodeToString(cms.Sequence(cms.Sequence(cms.Explicit(4, issuer)), s))
	}
	cases := []struct {
		name     string
		value    string
		ind      report.Indication
		sub      report.SubIndication
		contains string
	}{
		{"matching", issuerSerial(f.rsa.Cert.RawIssuer, f.rsa.Cert.SerialNumber), report.TotalPassed, "", ""},
		{"other serial", issuerSerial(f.rsa.Cert.RawIssuer, big.NewInt(4242)), report.Indeterminate, report.NoSigningCertificateFound, "serial number 4242"},
		{"other issuer", issuerSerial(f.p.Root.Cert.RawSubject, f.rsa.Cert.SerialNumber), report.Indeterminate, report.NoSigningCertificateFound, "issuer differs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := f.handBuilt(t, xades.SignedPropertiesType, func(sig, qp *etree.Element) {
				cert := qp.FindElement(".//Cert")
				cert.CreateElement("xades:IssuerSerialV2").SetText(c.value)
			})
			s := only(t, f.verify(t, data, nil))
			expect(t, s.Report, c.ind, c.sub, c.contains)
		})
	}
}

// TestDetachedNeverFetched names content on a live server and in a file:
// neither is read, the verdict names what is missing.
func TestDetachedNeverFetched(t *testing.T) {
	f := newFixture(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write(binDoc)
	}))
	defer srv.Close()
	for _, uri := range []string{srv.URL + "/zalacznik.pdf", "file:///etc/hostname", "../../../../etc/hostname"} {
		t.Run(uri, func(t *testing.T) {
			b, err := xmldsig.NewBuilder(xmldsig.SignOptions{Signer: f.rsa.Key, Certificates: []*x509.Certificate{f.rsa.Cert}, ID: "sig"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.AddReference(xmldsig.ReferenceSpec{URI: uri, Detached: binDoc}); err != nil {
				t.Fatal(err)
			}
			doc, err := b.Sign(nil)
			if err != nil {
				t.Fatal(err)
			}
			s := only(t, f.verify(t, serialize(t, doc), nil))
			expect(t, s.Report, report.Indeterminate, report.SignedDataNotFound, uri)
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the server was asked %d times", n)
	}
}

// TestTimestamps checks that the time stamps are verified over the right
// canonicalized input: ours pass; a token over other data fails its
// imprint; the level follows what the signature carries.
func TestTimestamps(t *testing.T) {
	f := newFixture(t)
	lta := f.sign(t, nil, xmlDoc, xsign.Options{Packaging: xsign.Enveloping, Level: xsign.LevelLTA})
	s := only(t, f.verify(t, lta, nil))
	expect(t, s.Report, report.TotalPassed, "")
	if s.Level != xades.LevelLTA || s.Report.Format != "XAdES-BASELINE-LTA" {
		t.Fatalf("level %s format %s", s.Level, s.Report.Format)
	}
	types := map[string]int{}
	for _, ts := range s.Report.Timestamps {
		types[ts.Type]++
		if ts.Indication != report.TotalPassed {
			t.Errorf("%s: %s/%s %q", ts.Type, ts.Indication, ts.SubIndication, ts.Errors)
		}
	}
	if types[report.SignatureTimestamp] != 1 || types[report.ArchiveTimestamp] != 1 {
		t.Errorf("time stamps %v", types)
	}

	swap := func(from, to string) []byte {
		// Put the archive time stamp's token in the signature time stamp:
		// a valid token over other data.
		return edit(t, lta, func(d *etree.Document) {
			src := d.FindElement("//" + from + "/EncapsulatedTimeStamp")
			dst := d.FindElement("//" + to + "/EncapsulatedTimeStamp")
			dst.SetText(src.Text())
		})
	}
	for _, c := range []struct{ name, from, to, broken string }{
		{"signature time stamp over other data", "ArchiveTimeStamp", "SignatureTimeStamp", report.SignatureTimestamp},
		{"archive time stamp over other data", "SignatureTimeStamp", "ArchiveTimeStamp", report.ArchiveTimestamp},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := only(t, f.verify(t, swap(c.from, c.to), nil))
			found := false
			for _, ts := range s.Report.Timestamps {
				if ts.Type == c.broken && ts.Indication == report.TotalFailed && ts.SubIndication == report.HashFailure {
					found = true
				}
			}
			if !found {
				t.Errorf("no %s with HASH_FAILURE: %+v", c.broken, s.Report.Timestamps)
			}
		})
	}
	t.Run("detached content not supplied", func(t *testing.T) {
		// The signature time stamp covers only the SignatureValue and
		// still proves its time; the archive time stamp covers the
		// content and can be neither proven nor disproven.
		data := f.sign(t, nil, binDoc, xsign.Options{Packaging: xsign.Detached, Level: xsign.LevelLTA, Name: "zalacznik.pdf"})
		s := only(t, f.verify(t, data, nil))
		expect(t, s.Report, report.Indeterminate, report.SignedDataNotFound, "zalacznik.pdf")
		for _, ts := range s.Report.Timestamps {
			want := map[string]report.SubIndication{report.SignatureTimestamp: "", report.ArchiveTimestamp: report.SignedDataNotFound}[ts.Type]
			if ts.SubIndication != want {
				t.Errorf("%s: %s/%s, want sub-indication %q", ts.Type, ts.Indication, ts.SubIndication, want)
			}
		}
	})
	t.Run("unsigned property added after the archive time stamp", func(t *testing.T) {
		// What comes after the archive time stamp is not covered by it.
		data := edit(t, lta, func(d *etree.Document) {
			usp := d.FindElement("//UnsignedSignatureProperties")
			usp.CreateElement("xades:CertificateValues")
		})
		s := only(t, f.verify(t, data, nil))
		expect(t, s.Report, report.TotalPassed, "")
	})
	t.Run("unsigned property changed before the archive time stamp", func(t *testing.T) {
		data := edit(t, lta, func(d *etree.Document) {
			cv := d.FindElement("//CertificateValues")
			cv.Parent().RemoveChild(cv)
		})
		s := only(t, f.verify(t, data, nil))
		for _, ts := range s.Report.Timestamps {
			if ts.Type == report.ArchiveTimestamp && ts.SubIndication != report.HashFailure {
				t.Errorf("archive time stamp %s/%s, want HASH_FAILURE", ts.Indication, ts.SubIndication)
			}
		}
	})
}

// TestCounterSignature countersigns a signature and requires the
// counter-signature in the report, under its parent.
func TestCounterSignature(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, nil, xmlDoc, xsign.Options{Packaging: xsign.Enveloped, Level: xsign.LevelT})
	counter, err := xsign.CounterSign(signed, "", xsign.Options{Signer: f.ec.Key, Certificate: f.ec.Cert, Chain: []*x509.Certificate{f.p.CA.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	res := f.verify(t, counter, nil)
	s := only(t, res)
	expect(t, s.Report, report.TotalPassed, "")
	if len(s.CounterSignatures) != 1 || len(s.Report.CounterSignatures) != 1 {
		t.Fatalf("%d counter-signatures", len(s.CounterSignatures))
	}
	cs := s.CounterSignatures[0]
	expect(t, cs.Report, report.TotalPassed, "")
	if !cs.SigningCertificate.Equal(f.ec.Cert) || cs.Report.ID != s.Report.ID+"-C1" {
		t.Errorf("counter-signature %s by %v", cs.Report.ID, cs.SigningCertificate.Subject)
	}
	// The parent's signature time stamp still covers what it covered.
	for _, ts := range s.Report.Timestamps {
		if ts.Indication != report.TotalPassed {
			t.Errorf("%s: %s/%s", ts.Type, ts.Indication, ts.SubIndication)
		}
	}
	t.Run("countersigning something else", func(t *testing.T) {
		data := edit(t, counter, func(d *etree.Document) {
			cs := d.FindElement("//CounterSignature")
			// Move the counter-signature under a second, unrelated
			// signature's properties: its Reference still resolves, to
			// the first signature's value, which is not its parent's.
			sig2 := etree.NewDocument()
			sig2.ReadFromBytes(f.sign(t, f.ec, xmlDoc, xsign.Options{Packaging: xsign.Enveloping, ID: "drugi"}))
			root := sig2.Root()
			d.Root().AddChild(root)
			qp := root.FindElement(".//QualifyingProperties")
			usp := qp.CreateElement("xades:UnsignedProperties").CreateElement("xades:UnsignedSignatureProperties")
			usp.AddChild(cs)
		})
		res := f.verify(t, data, nil)
		var second *xades.Signature
		for _, s := range res.Signatures {
			if s.ID == "drugi" {
				second = s
			}
		}
		if second == nil || len(second.CounterSignatures) != 1 {
			t.Fatalf("second signature not found with its counter-signature")
		}
		expect(t, second.CounterSignatures[0].Report, report.TotalFailed, report.FormatFailure, "covers no ds:SignatureValue")
	})
}
