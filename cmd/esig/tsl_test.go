package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"esig/verifier/tsl/tsltest"
)

// The real lists of the shared corpus (read in place, never copied).
const tslCorpus = "../../../shared/corpus/tsl"

func tslCorpusFiles(t *testing.T) (lotl, pl string) {
	t.Helper()
	lotl = filepath.Join(tslCorpus, "EU-LOTL-seq248.xml")
	pl = filepath.Join(tslCorpus, "PL-TSL-seq110.xml")
	for _, f := range []string{lotl, pl} {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("corpus file %s not available (%v); skipping", f, err)
		}
	}
	return lotl, pl
}

// inForce2019 is a time both corpus lists were current.
const inForce2019 = "2019-09-10T00:00:00Z"

func TestTSLCheckCorpus(t *testing.T) {
	lotl, pl := tslCorpusFiles(t)
	cache := []string{"--tsl-cache", t.TempDir()}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"Polish list pinned by the LOTL, in 2019", []string{"--lotl", lotl, "--at", inForce2019, pl}, 0,
			[]string{"PL trusted list #110", `"CN=Polish TSL Operator,O=National Bank of Poland,C=PL"`, "pinned by the EU trusted list #248", "fresh at 2019-09-10", "OK"}},
		{"Polish list today fails closed", []string{"--lotl", lotl, pl}, 1,
			[]string{"past its NextUpdate 2020-03-04", "FAILED"}},
		{"Polish list today with --allow-stale", []string{"--lotl", lotl, "--allow-stale", pl}, 0,
			[]string{"STALE (accepted: --allow-stale)", "expired on 2022-09-27", "OK"}},
		{"LOTL against the certificates it names for itself", []string{"--at", inForce2019, lotl}, 0,
			[]string{"EU trusted list #248", "names for itself", "OK"}},
		{"Polish list without any pin", []string{"--at", inForce2019, pl}, 1,
			[]string{"no operator certificate", "FAILED"}},
		{"missing --pin file", []string{"--at", inForce2019, "--pin", filepath.Join(t.TempDir(), "missing.pem"), pl}, 64, nil},
		{"bad --at", []string{"--at", "yesterday", pl}, 64, nil},
		{"no such list", []string{"--at", inForce2019, filepath.Join(t.TempDir(), "none.xml")}, 64, []string{"no such file"}},
		{"not XML", []string{"--at", inForce2019, "tsl.go"}, 1, []string{"document refused"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := esig(t, nil, append(append([]string{"tsl", "check"}, cache...), tc.args...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\n%s", code, tc.wantCode, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestTSLShowCorpus(t *testing.T) {
	lotl, pl := tslCorpusFiles(t)
	out, code := esig(t, nil, "tsl", "show", "--tsl-cache", t.TempDir(), "--lotl", lotl, "--at", inForce2019, pl)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, `Signature:   valid, signed by "CN=Polish TSL Operator`) || !strings.Contains(out, "STATUS AT 2019-09-10") {
		t.Errorf("header:\n%s", out[:min(len(out), 800)])
	}
	// The Polish QTSPs, each with a qualified CA granted in September 2019,
	// recognisable by the CN of its certificate.
	for _, q := range []struct{ provider, cert string }{
		{"Asseco Data Systems S.A.", "CERTUM QCA"},
		{"Krajowa Izba Rozliczeniowa S.A.", ""},
		{"EuroCert Sp. z o.o.", "Centrum Kwalifikowane EuroCert"},
		{"Polish Security Printing Works", ""},
		{"ENIGMA Systemy Ochrony Informacji", "CenCert"},
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, q.provider) && strings.Contains(line, "CA/QC") && strings.Contains(line, " granted ") &&
				strings.Contains(line, q.cert) {
				found = true
			}
		}
		if !found {
			t.Errorf("no granted CA/QC row for %s (%s)", q.provider, q.cert)
		}
	}
	// Without a pin the list is still shown, marked.
	out, code = esig(t, nil, "tsl", "show", "--tsl-cache", t.TempDir(), pl)
	if code != 0 || !strings.Contains(out, "NOT VERIFIED: no operator certificate") || !strings.Contains(out, "Krajowa Izba Rozliczeniowa") {
		t.Errorf("exit %d:\n%s", code, out[:min(len(out), 800)])
	}
	// JSON for scripts.
	out, code = esig(t, nil, "tsl", "show", "--tsl-cache", t.TempDir(), "--lotl", lotl, "--at", inForce2019, "--format", "json", pl)
	var doc struct {
		Territory string `json:"territory"`
		Signature string `json:"signature"`
		Providers []struct {
			Name     string `json:"name"`
			Services []struct {
				Type, Status string
			} `json:"services"`
		} `json:"providers"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
		t.Fatalf("exit %d, not JSON:\n%s", code, out[:min(len(out), 400)])
	}
	if doc.Territory != "PL" || !strings.HasPrefix(doc.Signature, "valid") || len(doc.Providers) != 10 {
		t.Errorf("JSON: %s %q, %d providers", doc.Territory, doc.Signature, len(doc.Providers))
	}
}

// TestTSLSynthetic runs fetch, check and show on the synthetic lists of a
// test PKI, served from 127.0.0.1: the LOTL points at a national list, a
// second national list has a byte flipped.
func TestTSLSynthetic(t *testing.T) {
	p := tsltest.New(t)
	files := map[string][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	zz := p.SignedList(t, tsltest.ListOptions{Territory: "ZZ"})
	files["/zz.xml"] = zz
	files["/yy.xml"] = []byte(strings.Replace(string(p.SignedList(t, tsltest.ListOptions{Territory: "YY"})), "Test QTSP S.A.", "Evil QTSP S.A.", 1))
	operator := []*x509.Certificate{p.Operator.Cert}
	files["/lotl.xml"] = p.SignedLOTL(t, tsltest.LOTLOptions{Location: srv.URL + "/lotl.xml", Pointers: []tsltest.Pointer{
		{Location: srv.URL + "/zz.xml", Territory: "ZZ", Type: tsltest.TSLTypeGeneric, Certs: operator, Operator: "Test Supervisory Body"},
		{Location: srv.URL + "/yy.xml", Territory: "YY", Type: tsltest.TSLTypeGeneric, Certs: operator, Operator: "Other Body"},
	}})
	cache := t.TempDir()
	at := "2025-03-01T00:00:00Z"

	out, code := esig(t, nil, "tsl", "fetch", "--tsl-cache", cache, "--lotl-cert", p.LOTLOperator.CertPath, "--at", at, srv.URL+"/lotl.xml")
	if code != 1 || !strings.Contains(out, "REFUSED") || !strings.Contains(out, "digest") || !strings.Contains(out, "ZZ ") {
		t.Fatalf("fetch: exit %d (want 1: the YY list is broken)\n%s", code, out)
	}
	out, code = esig(t, nil, "tsl", "fetch", "--tsl-cache", cache, "--lotl-cert", p.LOTLOperator.CertPath, "--territory", "ZZ", "--at", at, srv.URL+"/lotl.xml")
	if code != 0 || !strings.Contains(out, "ZZ ") || strings.Contains(out, "REFUSED") {
		t.Fatalf("fetch --territory ZZ: exit %d\n%s", code, out)
	}
	// Offline, from the cache the fetch filled.
	srv.Close()
	out, code = esig(t, nil, "tsl", "check", "--tsl-cache", cache, "--offline", "--lotl-cert", p.LOTLOperator.CertPath,
		"--lotl", srv.URL+"/lotl.xml", "--at", at, srv.URL+"/zz.xml")
	if code != 0 || !strings.Contains(out, "ZZ trusted list #1 (Test Supervisory Body, cache)") || !strings.Contains(out, "OK") {
		t.Fatalf("offline check from the cache: exit %d\n%s", code, out)
	}
	// Files: a good list, the broken one, a wrong pin.
	dir := t.TempDir()
	zzFile := filepath.Join(dir, "zz.xml")
	yyFile := filepath.Join(dir, "yy.xml")
	os.WriteFile(zzFile, zz, 0o644)
	os.WriteFile(yyFile, files["/yy.xml"], 0o644)
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"pinned operator", []string{"--pin", p.Operator.CertPath, zzFile}, 0, "OK"},
		{"byte flipped", []string{"--pin", p.Operator.CertPath, yyFile}, 1, "digest"},
		{"wrong pin", []string{"--pin", p.LOTLOperator.CertPath, zzFile}, 1, "does not verify under any pinned operator certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := esig(t, nil, append([]string{"tsl", "check", "--tsl-cache", cache, "--at", at}, tc.args...)...)
			if code != tc.wantCode || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d (want %d), output lacks %q:\n%s", code, tc.wantCode, tc.want, out)
			}
		})
	}
	out, code = esig(t, nil, "tsl", "show", "--tsl-cache", cache, "--pin", p.Operator.CertPath, "--at", at, "--history", zzFile)
	if code != 0 || !strings.Contains(out, "Test QTSP S.A.") || !strings.Contains(out, "TSA/QTST") || !strings.Contains(out, "Test QTSP Qualified CA") {
		t.Errorf("show: exit %d\n%s", code, out)
	}
}

// TestVerifyTSLFlags exercises the helper esig verify will call for --tsl
// (in-process: the flags as esig verify registers them, and the Set they
// load).
func TestVerifyTSLFlags(t *testing.T) {
	p := tsltest.New(t)
	dir := t.TempDir()
	zz := p.Write(t, "zz.xml", p.SignedList(t, tsltest.ListOptions{}))
	broken := p.Write(t, "broken.xml", []byte(strings.Replace(string(p.SignedList(t, tsltest.ListOptions{Territory: "YY"})), "Test QTSP S.A.", "Evil QTSP S.A.", 1)))
	var f verifyTSLFlags
	fs := pflag.NewFlagSet("verify", pflag.ContinueOnError)
	registerVerifyTSLFlags(fs, &f)
	if err := fs.Parse([]string{"--tsl", zz, "--tsl", broken, "--tsl-cert", p.Operator.CertPath, "--tsl-cache", dir}); err != nil {
		t.Fatal(err)
	}
	set, err := f.load(context.Background(), true, "2025-03-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Lists()) != 1 || set.Lists()[0].List.Territory != "ZZ" || len(set.Rejected) != 1 || !strings.Contains(set.Rejected[0].Err.Error(), "digest") {
		t.Fatalf("lists %d, rejected %v", len(set.Lists()), set.Rejected)
	}
	if a := set.CAAnchors(); len(a) != 1 || !a[0].Certificate.Equal(p.CA.Cert) {
		t.Errorf("CA anchors: %d", len(a))
	}
	var none verifyTSLFlags
	if s, err := none.load(context.Background(), true, ""); s != nil || err != nil {
		t.Errorf("without --tsl: %v, %v", s, err)
	}
}
