package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cadessign "esig/signer/cades"
	"esig/verifier/tsl/tsltest"
)

// TestVerifyQualifiedWithTrustedList signs CAdES with certificates a
// synthetic trusted list names as qualified and verifies them with the
// command: the qualification comes from the list, and the ETSI report
// validates against its schema.
func TestVerifyQualifiedWithTrustedList(t *testing.T) {
	p := tsltest.New(t)
	dir := t.TempDir()
	list := p.Write(t, "zz.xml", p.SignedList(t, tsltest.ListOptions{}))
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	// The CA's CRL, valid at the validation time, shows nothing revoked.
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: at.Add(-time.Hour), NextUpdate: at.Add(24 * time.Hour)}, p.CA.Cert, p.CA.Key)
	if err != nil {
		t.Fatal(err)
	}
	crl := filepath.Join(dir, "ca.crl")
	os.WriteFile(crl, crlDER, 0o600)

	cases := []struct {
		name string
		leaf tsltest.LeafOptions
		want string
	}{
		{"qualified signature with QSCD", tsltest.LeafOptions{Name: "qes", QcCompliance: true, QcSSCD: true, QcTypes: []asn1.ObjectIdentifier{tsltest.OIDQcTypeESign}}, "QESig"},
		{"qualified certificate without QSCD", tsltest.LeafOptions{Name: "qc", QcCompliance: true, QcTypes: []asn1.ObjectIdentifier{tsltest.OIDQcTypeESign}}, "AdESig-QC"},
		{"qualified seal", tsltest.LeafOptions{Name: "seal", Legal: true, QcCompliance: true, QcSSCD: true, QcTypes: []asn1.ObjectIdentifier{tsltest.OIDQcTypeESeal}}, "QESeal"},
		{"not qualified", tsltest.LeafOptions{Name: "plain"}, "AdES"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leaf := p.Leaf(t, tc.leaf)
			var sig bytes.Buffer
			err := cadessign.Sign(context.Background(), bytes.NewReader([]byte("deklaracja")), &sig, cadessign.Options{
				Signer: leaf.Key, Certificate: leaf.Cert, Chain: []*x509.Certificate{p.CA.Cert}, SigningTime: at.Add(-time.Minute),
			})
			if err != nil {
				t.Fatal(err)
			}
			sigFile := filepath.Join(dir, tc.leaf.Name+".p7m")
			os.WriteFile(sigFile, sig.Bytes(), 0o600)
			args := []string{"verify", "--tsl", list, "--tsl-cert", p.Operator.CertPath, "--tsl-cache", filepath.Join(dir, "cache"),
				"--offline", "--crl", crl, "--at", at.Format(time.RFC3339), "--format", "json", sigFile}
			cmd := exec.Command(esigBin, args...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("esig verify: %v\n%s", err, out)
			}
			var rep struct {
				Signatures []struct {
					Indication           string
					Qualification        string
					QualificationDetails []string
				}
			}
			if err := json.Unmarshal(out, &rep); err != nil || len(rep.Signatures) != 1 {
				t.Fatalf("%v\n%s", err, out)
			}
			s := rep.Signatures[0]
			notQualified := tc.want == "AdES" && (strings.Contains(s.Qualification, "QC") || strings.HasPrefix(s.Qualification, "QE"))
			if s.Indication != "TOTAL-PASSED" || !strings.HasPrefix(s.Qualification, tc.want) || notQualified || (tc.want != "AdES" && s.Qualification != tc.want) {
				t.Fatalf("indication %s qualification %q, want %s\n%s", s.Indication, s.Qualification, tc.want, strings.Join(s.QualificationDetails, "\n"))
			}
			if tc.want == "QESig" {
				etsi := filepath.Join(dir, "report.xml")
				args[len(args)-2] = "etsi"
				out, err := exec.Command(esigBin, args...).Output()
				if err != nil {
					t.Fatalf("--format etsi: %v", err)
				}
				os.WriteFile(etsi, out, 0o600)
				if !bytes.Contains(out, []byte("signatureQualification:QESig")) {
					t.Fatalf("ETSI report lacks the qualification:\n%s", out)
				}
				xsd := filepath.Join("..", "..", "..", "shared", "schemas", "TS119102-2-v141.xsd")
				if _, err := os.Stat(xsd); err == nil {
					if _, err := exec.LookPath("xmllint"); err == nil {
						if v, err := exec.Command("xmllint", "--nonet", "--noout", "--schema", xsd, etsi).CombinedOutput(); err != nil {
							t.Fatalf("the ETSI report does not validate: %v\n%s", err, v)
						}
					}
				}
				args[len(args)-2] = "html"
				if out, err := exec.Command(esigBin, args...).Output(); err != nil || !bytes.Contains(out, []byte("Qualified electronic signature")) {
					t.Fatalf("--format html: %v", err)
				}
			}
		})
	}
}
