package tsl

import (
	"crypto/x509"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"esig/verifier/tsl/tsltest"
)

// FuzzParse feeds hostile bytes to the parser and to everything a caller
// does with what it returns: the signature check, the service timeline,
// criteria evaluation, pointer lookups. None of it may panic or hang. The
// seed corpus in testdata/fuzz/FuzzParse is synthetic lists this package's
// tests generate (go test -run TestFuzzSeeds -update-fuzz-seeds rewrites
// it). The seeds are signed lists of several kilobytes, whose minimization
// takes the fuzzer's default minute each: fuzz with -fuzzminimizetime 2s.
func FuzzParse(f *testing.F) {
	p := tsltest.New(f)
	probe := p.Leaf(f, tsltest.LeafOptions{Name: "probe"}).Cert
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse(data)
		if err != nil {
			return
		}
		var pins []*x509.Certificate
		if l.Signature != nil {
			pins = l.Signature.Certificates
		}
		l.CheckSignature(append(pins, p.Operator.Cert), time.Time{})
		l.Stale(time.Now())
		l.IsLOTL()
		l.SelfPointer()
		l.PointersTo(l.Territory)
		for _, prov := range l.Providers {
			_ = prov.Name.In("pl")
			for _, s := range prov.Services {
				for _, st := range s.Timeline() {
					s.At(st.StatusStart)
					for _, q := range st.Qualifications {
						q.Criteria.Matches(probe)
					}
				}
				s.MatchesKey(probe)
				s.Certificates()
			}
		}
		set := &Set{}
		set.Add(&Trusted{List: l})
		set.ServicesFor(probe)
		for _, a := range set.CAAnchors() {
			a.GrantedAt(time.Now())
		}
	})
}

var updateSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite testdata/fuzz/FuzzParse with freshly generated synthetic lists")

const seedDir = "testdata/fuzz/FuzzParse"

// seedLists are the synthetic lists of the seed corpus: what the parser
// meets in practice (a national list with history and qualifications, a
// LOTL with pointers) and edge cases of the structure.
func seedLists(t *testing.T) map[string][]byte {
	p := newPKI(t)
	withdrawn := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	nested := tsltest.Status{Status: tsltest.StatusGranted, Start: tsltest.GrantedFrom, AdditionalInfo: []string{tsltest.InfoForESig},
		Qualifications: []tsltest.Qualification{
			{Qualifiers: []string{tsltest.QualQCWithQSCD, tsltest.QualQCForESig}, Assert: "atLeastOne",
				KeyUsage: map[string]bool{"nonRepudiation": true, "digitalSignature": false}, Policies: []string{"0.4.0.194112.1.2", "urn:oid:0.4.0.194112.1.0"}},
			{Qualifiers: []string{tsltest.QualNotQualified}, Assert: "none", Policies: []string{"1.2.3.4"}},
		}}
	return map[string][]byte{
		"national-history": p.SignedList(t, tsltest.ListOptions{Services: tsltest.DefaultServices(p, withdrawn),
			Pointers: []tsltest.Pointer{{Location: "https://lotl.example.invalid/lotl.xml", Territory: "EU", Type: tsltest.TSLTypeLOTL,
				Certs: []*x509.Certificate{p.LOTLOperator.Cert}, Operator: "Test Commission"}}}),
		"national-criteria": p.SignedList(t, tsltest.ListOptions{Sequence: 7, Services: []tsltest.Service{
			{Type: tsltest.TypeCAQC, Name: "CA", Cert: p.CA.Cert, History: []tsltest.Status{
				{Status: tsltest.StatusUnderSupervision, Start: time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), UnknownCritical: true}, nested}}}}),
		"lotl": p.SignedLOTL(t, tsltest.LOTLOptions{Pointers: []tsltest.Pointer{
			{Location: "https://tl.example.invalid/ZZ.xml", Territory: "ZZ", Type: tsltest.TSLTypeGeneric, Certs: []*x509.Certificate{p.Operator.Cert}, Operator: "Test Supervisory Body"},
			{Location: "https://tl.example.invalid/ZZ.pdf", Territory: "ZZ", Type: tsltest.TSLTypeGeneric, Operator: "Test Supervisory Body", MimeType: "application/pdf"},
		}}),
		"minimal": []byte(`<TrustServiceStatusList xmlns="` + NamespaceTSL + `" TSLTag="` + TSLTag + `"><SchemeInformation>` +
			`<TSLVersionIdentifier>5</TSLVersionIdentifier><TSLSequenceNumber>1</TSLSequenceNumber><TSLType>` + TypeEUGeneric + `</TSLType>` +
			`<SchemeOperatorName><Name xml:lang="en">x</Name></SchemeOperatorName><ListIssueDateTime>2025-01-01T00:00:00Z</ListIssueDateTime>` +
			`<NextUpdate/></SchemeInformation></TrustServiceStatusList>`),
	}
}

// TestFuzzSeeds checks that the committed seed corpus still holds parsable
// lists of each kind (and rewrites it with -update-fuzz-seeds).
func TestFuzzSeeds(t *testing.T) {
	if *updateSeeds {
		if err := os.MkdirAll(seedDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range seedLists(t) {
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
			if err := os.WriteFile(filepath.Join(seedDir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir(seedDir)
	if err != nil {
		t.Fatalf("seed corpus: %v (generate it with -update-fuzz-seeds)", err)
	}
	kinds := map[string]bool{}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(seedDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		head, quoted, ok := strings.Cut(string(raw), "\n")
		quoted = strings.TrimSuffix(strings.TrimSpace(quoted), ")")
		if !ok || head != "go test fuzz v1" || !strings.HasPrefix(quoted, "[]byte(") {
			t.Fatalf("%s: not a fuzz corpus file", e.Name())
		}
		data, err := strconv.Unquote(strings.TrimPrefix(quoted, "[]byte("))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		l, err := Parse([]byte(data))
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		switch {
		case l.IsLOTL():
			kinds["lotl"] = true
		case l.Signature == nil:
			kinds["unsigned"] = true
		case len(l.Providers) > 0:
			kinds["national"] = true
		}
	}
	for _, k := range []string{"lotl", "unsigned", "national"} {
		if !kinds[k] {
			t.Errorf("the seed corpus has no %s list", k)
		}
	}
}
