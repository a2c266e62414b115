package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"esig/internal/testpki"
	"esig/verifier"
	"esig/verifier/document"
	"esig/verifier/report"
	"esig/verifier/revocation"
	"esig/verifier/trust"
)

type intakeAnswer struct {
	Receipt *struct {
		Number, DocumentSHA256, URL, XML string
	}
	Report *report.Report
	Type   string
}

func submit(t *testing.T, e *raEnv, doc []byte, want int) intakeAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"document": base64.StdEncoding.EncodeToString(doc)})
	var out intakeAnswer
	raw := e.call(t, "POST", "/v1/intake", e.portal, string(body), want)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return out
}

// TestIntakeSealedReceipt: a document with a valid trusted-profile seal is
// received with a sealed receipt that esig verifies like any signature; a
// tampered one gets the report and no receipt.
func TestIntakeSealedReceipt(t *testing.T) {
	pki := testpki.New(t)
	ministry := newSealer(t, pki, "Ministerstwo Cyfryzacji", "VATPL-5252955037")
	e := startProofRA(t, pki)
	signed := ministry.seal(t, []byte(`<?xml version="1.0"?><Deklaracja xmlns="urn:example:pit"><Kwota>1234.00</Kwota></Deklaracja>`), "Anna", "Nowak", "02270803624")

	ok := submit(t, e, signed, 201)
	if ok.Receipt == nil || !strings.HasPrefix(ok.Receipt.Number, "UPO-") || ok.Report.Indication != report.TotalPassed {
		t.Fatalf("accepted document: %+v", ok)
	}
	for _, want := range []string{ok.Receipt.Number, "<PESEL>02270803624</PESEL>", "<Verdict>TOTAL-PASSED</Verdict>", "<DigestValue>"} {
		if !strings.Contains(ok.Receipt.XML, want) {
			t.Errorf("receipt lacks %s", want)
		}
	}
	stored := e.call(t, "GET", ok.Receipt.URL, e.portal, "", 200)
	if string(stored) != ok.Receipt.XML {
		t.Fatal("the stored receipt differs from the one issued")
	}
	// The receipt is a signature like any other: XAdES B-T by the CA's
	// receipt seal, time-stamped by its TSA.
	anchors := trust.NewAnchors()
	anchors.Add(e.App.Hierarchy.Root)
	eng, err := verifier.New(verifier.Config{Anchors: anchors, Fetcher: revocation.NewHTTPFetcher()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := document.Verify(context.Background(), eng, stored, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Report.Signatures[0]
	if s.Indication != report.TotalPassed || s.Format != "XAdES-BASELINE-T" || len(s.Timestamps) != 1 {
		t.Fatalf("the receipt does not verify: %s/%s %s %v %v", s.Indication, s.SubIndication, s.Format, s.Errors, s.Warnings)
	}

	// A tampered document: rejected with its report, no receipt.
	tampered := []byte(strings.Replace(string(signed), "1234.00", "1.00", 1))
	bad := submit(t, e, tampered, 422)
	if bad.Receipt != nil || bad.Type != "urn:esig:problem:document-rejected" || bad.Report == nil || bad.Report.Signatures[0].SubIndication != report.HashFailure {
		t.Fatalf("tampered document: %+v", bad)
	}
	e.call(t, "GET", "/v1/receipts/UPO-19700101-0000000000", e.portal, "", 404)
	e.call(t, "POST", "/v1/intake", e.portal, `{"document":""}`, 400)
	e.call(t, "POST", "/v1/intake", "", `{"document":"eA=="}`, 401)
}
