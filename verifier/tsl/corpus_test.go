package tsl

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

// The Polish list (sequence 110, August 2019) and the EU LOTL (sequence
// 248, September 2019) of the shared corpus: real lists, real signatures.
const (
	plFile   = "PL-TSL-seq110.xml"
	lotlFile = "EU-LOTL-seq248.xml"
)

// inForce is a time both corpus lists were current.
var inForce = time.Date(2019, 9, 10, 0, 0, 0, 0, time.UTC)

func TestCorpusLOTLNamesPoland(t *testing.T) {
	lotl := mustParse(t, corpusFile(t, lotlFile))
	if !lotl.IsLOTL() || lotl.Territory != "EU" || lotl.SequenceNumber != 248 {
		t.Fatalf("LOTL: type %s territory %s seq %d", lotl.Type, lotl.Territory, lotl.SequenceNumber)
	}
	if lotl.Stale(inForce) || !lotl.Stale(time.Date(2020, 3, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("NextUpdate %v: freshness judged wrongly", lotl.NextUpdate)
	}
	// Its signature checks against the certificates it names for itself.
	self, ok := lotl.SelfPointer()
	if !ok || self.Location != "https://ec.europa.eu/tools/lotl/eu-lotl.xml" || len(self.Certificates) == 0 {
		t.Fatalf("self pointer: %v %+v", ok, self)
	}
	if res := lotl.CheckSignature(self.Certificates, inForce); res.Err != nil {
		t.Fatalf("LOTL signature against its own pointer's certificates: %v", res.Err)
	}
	pl := lotl.PointersTo("PL")
	if len(pl) != 1 {
		t.Fatalf("%d XML pointers for PL", len(pl))
	}
	p := pl[0]
	if p.Location != "https://www.nccert.pl/tsl/PL_TSL.xml" || p.Type != TypeEUGeneric || p.MimeType != MimeTypeTSL ||
		!p.OperatorName.Has("National Bank of Poland") || len(p.Certificates) != 2 {
		t.Errorf("PL pointer: %s %s %s %q, %d certificates", p.Location, p.Type, p.MimeType, p.OperatorName, len(p.Certificates))
	}
	for _, c := range p.Certificates {
		if c.Subject.CommonName != "Polish TSL Operator" {
			t.Errorf("PL operator certificate %q", c.Subject)
		}
	}
	// Every EU/EEA country has an XML pointer, and the PDF ones are not
	// taken for lists.
	var terr []string
	for _, p := range lotl.Pointers {
		if p.IsXML() && p.Type == TypeEUGeneric {
			terr = append(terr, p.Territory)
		}
	}
	if len(terr) < 28 {
		t.Errorf("%d national XML pointers: %v", len(terr), terr)
	}
}

func TestCorpusPolishListSignature(t *testing.T) {
	lotl := mustParse(t, corpusFile(t, lotlFile))
	pl := mustParse(t, corpusFile(t, plFile))
	pins := lotl.PointersTo("PL")[0].Certificates
	res := pl.CheckSignature(pins, inForce)
	if res.Err != nil {
		t.Fatalf("PL list against the LOTL's PL certificates: %v", res.Err)
	}
	if res.Signer.Subject.CommonName != "Polish TSL Operator" || len(res.Warnings) != 0 {
		t.Errorf("signer %q, warnings %q", res.Signer.Subject, res.Warnings)
	}
	// Today the operator certificate has expired: reported, not refused.
	late := pl.CheckSignature(pins, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if late.Err != nil || len(late.Warnings) != 1 || !strings.Contains(late.Warnings[0], "expired on 2022-09-27") {
		t.Errorf("later check: %v %q", late.Err, late.Warnings)
	}
	// The LOTL's own signers are not the Polish operator.
	self, _ := lotl.SelfPointer()
	if res := pl.CheckSignature(self.Certificates, inForce); !errors.Is(res.Err, ErrNoPinnedKey) {
		t.Errorf("PL list against the LOTL signers: %v, want %v", res.Err, ErrNoPinnedKey)
	}
	// The PL list points back at the LOTL with certificates that verify it.
	var back []*x509.Certificate
	for _, p := range pl.Pointers {
		if p.Type == TypeEUListOfLists {
			back = p.Certificates
		}
	}
	if res := lotl.CheckSignature(back, inForce); res.Err != nil {
		t.Errorf("LOTL against the PL list's pointer: %v", res.Err)
	}
}

func TestCorpusPolishProviders(t *testing.T) {
	pl := mustParse(t, corpusFile(t, plFile))
	if pl.Territory != "PL" || pl.SequenceNumber != 110 || !pl.OperatorName.Has("Narodowy Bank Polski") {
		t.Fatalf("PL list: %s #%d by %q", pl.Territory, pl.SequenceNumber, pl.OperatorName)
	}
	// The QTSPs by their TSPName (or trade name) in the file: Certum
	// (Asseco Data Systems, earlier Unizeto), KIR, EuroCert, PWPW and
	// CenCert (ENIGMA).
	for _, tc := range []struct {
		brand, name string
		minServices int
	}{
		{"Certum", "Asseco Data Systems S.A.", 5},
		{"Certum (before 2016)", "Unizeto Technologies S.A.", 5},
		{"KIR", "Krajowa Izba Rozliczeniowa S.A.", 5},
		{"EuroCert", "EuroCert Sp. z o.o.", 3},
		{"PWPW", "Polish Security Printing Works", 3},
		{"CenCert", "ENIGMA Systemy Ochrony Informacji Sp. z o.o.", 5},
	} {
		provs := pl.FindProvider(tc.name)
		if len(provs) != 1 {
			t.Errorf("%s: %d providers named %q", tc.brand, len(provs), tc.name)
			continue
		}
		p := provs[0]
		if len(p.Services) < tc.minServices {
			t.Errorf("%s: %d services", tc.brand, len(p.Services))
		}
		qc := 0
		for _, s := range p.Services {
			if s.Current == nil || s.Current.Status == "" || s.Current.StatusStart.IsZero() || len(s.Current.Identity.Errors) > 0 {
				t.Errorf("%s: service %q incomplete", tc.brand, s.Current.Name)
			}
			if s.Current.Type == ServiceCAQC {
				qc++
			}
		}
		if qc == 0 {
			t.Errorf("%s: no CA/QC service", tc.brand)
		}
	}
	if len(pl.FindProvider("CERTUM")) != 2 {
		t.Errorf("trade name CERTUM should find Unizeto and Asseco")
	}
	// Certum's qualified CA: granted in 2019 and under supervision (the
	// pre-eIDAS status) in its history, with the qualifiers of the file.
	var granted, supervised bool
	for _, p := range pl.FindProvider("Asseco Data Systems S.A.") {
		for _, s := range p.Services {
			if s.Current.Type != ServiceCAQC {
				continue
			}
			if st := s.At(inForce); st != nil && st.Status == StatusGranted {
				granted = true
				for _, q := range st.Qualifications {
					if len(q.Qualifiers) == 0 {
						t.Errorf("Certum CA/QC: qualification element without qualifiers")
					}
				}
			}
			for _, h := range s.History {
				if h.Status == StatusUnderSupervision {
					supervised = true
				}
			}
		}
	}
	if !granted || !supervised {
		t.Errorf("Certum CA/QC: granted in 2019 %v, under supervision in history %v", granted, supervised)
	}
}

func TestCorpusPolishListValidatesAgainstSchema(t *testing.T) {
	// The wrapper schema used for the synthetic lists accepts a real list.
	if err := validateSchema(t, corpusFile(t, plFile)); err != nil {
		t.Fatal(err)
	}
}
