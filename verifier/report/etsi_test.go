package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sampleReports is a realistic pair: a passed trusted-profile XAdES with
// time stamps and a chain to an anchor, and a failed CAdES.
func sampleReports() []*Report {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	leaf, ca, root := strings.Repeat("aa", 32), strings.Repeat("bb", 32), strings.Repeat("cc", 32)
	ok := &Signature{
		ID: "id-sig-1", Format: "XAdES-BASELINE-T", Indication: TotalPassed, SigningTime: &t0, BestSignatureTime: &t1,
		Signer:         &Signer{Subject: "CN=Minister do spraw informatyzacji, O=Ministerstwo Cyfryzacji", SerialNumber: "01", Issuer: "CN=CA", CertificateSHA256: leaf},
		Qualification:  "QESeal",
		TrustedProfile: &TrustedProfile{GivenNames: []string{"Anna", "Maria"}, Surname: "Nowak", PESEL: "02270803624", AccountID: "anowak", SealedBy: "Ministerstwo Cyfryzacji", SigningTime: t0.Format(time.RFC3339)},
		SignedObjects:  []SignedObject{{Reference: "r-1", URI: "", DigestAlgorithm: "SHA-256"}},
		Timestamps:     []*Timestamp{{Type: SignatureTimestamp, ProductionTime: &t1, Indication: TotalPassed, TSA: "CN=TSA", SerialNumber: "7f"}},
		Chain:          []Certificate{{CertificateSHA256: leaf}, {CertificateSHA256: ca}, {CertificateSHA256: root, TrustAnchor: true}},
	}
	bad := &Signature{ID: "signer-1", Format: "CAdES-BASELINE-B", Indication: TotalFailed, SubIndication: HashFailure,
		Signer: &Signer{Subject: "CN=Jan", CertificateSHA256: strings.Repeat("dd", 32)}, Qualification: "N/A", Errors: []string{"message digest does not match the content"}}
	return []*Report{
		{Indication: TotalPassed, ValidationTime: t1.Add(time.Hour), File: "a.xml", Signatures: []*Signature{ok}},
		{Indication: TotalFailed, ValidationTime: t1.Add(time.Hour), File: "b.p7m", Signatures: []*Signature{bad}},
		{Indication: NoSignatureFound, ValidationTime: t1.Add(time.Hour), File: "c.txt"},
	}
}

func TestETSIReportContent(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteETSI(&buf, sampleReports()[:1]); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`<vr:ValidationReport xmlns:vr="http://uri.etsi.org/19102/v1.4.1#"`,
		`<vr:MainIndication>urn:etsi:019102:mainindication:total-passed</vr:MainIndication>`,
		`<vr:SignatureQualityInformation>urn:cef:dss:signatureQualification:QESeal</vr:SignatureQualityInformation>`,
		`<esig:PESEL>02270803624</esig:PESEL>`,
		`<vr:TrustAnchor VOReference="C-cccc`,
		`<vr:SignatureTimeStamp>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ETSI report lacks %s\n%s", want, out)
		}
	}
	if err := xml.Unmarshal(buf.Bytes(), new(struct{})); err != nil {
		t.Fatalf("not well-formed: %v", err)
	}
}

// TestETSIReportValidatesAgainstSchema checks every report shape against
// the TS 119 102-2 schema with xmllint (offline, schemas from ../shared).
func TestETSIReportValidatesAgainstSchema(t *testing.T) {
	xsd := filepath.Join("..", "..", "..", "shared", "schemas", "TS119102-2-v141.xsd")
	if _, err := os.Stat(xsd); err != nil {
		t.Skip("the ETSI schemas are not beside the repository (../shared/schemas)")
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint (libxml2-utils) is required in CI")
		}
		t.Skip("xmllint not installed")
	}
	for i, r := range sampleReports() {
		var buf bytes.Buffer
		if err := WriteETSI(&buf, []*Report{r}); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "report.xml")
		os.WriteFile(f, buf.Bytes(), 0o600)
		out, err := exec.Command("xmllint", "--nonet", "--noout", "--schema", xsd, f).CombinedOutput()
		if err != nil {
			t.Errorf("report %d does not validate: %v\n%s\n%s", i, err, out, buf.String())
		}
	}
}
