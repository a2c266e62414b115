package api_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"testing"

	"esig/api/apitest"
)

func issue(t *testing.T, env *apitest.Env, profile string, subject map[string]string) certResponse {
	t.Helper()
	csr, _ := opensslCSR(t, ecKey...)
	resp, body := env.Do(t, "POST", "/v1/certificates", env.AdminToken, issueBody(csr, profile, subject))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue: %d %s", resp.StatusCode, body)
	}
	var cr certResponse
	json.Unmarshal(body, &cr)
	return cr
}

func TestRevocationLifecycle(t *testing.T) {
	needOpenSSL(t)
	env := apitest.Start(t, apitest.Options{})
	cr := issue(t, env, "person-auth", person)
	post := func(path, body string) (int, certResponse) {
		t.Helper()
		resp, b := env.Do(t, "POST", "/v1/certificates/"+cr.Serial+path, env.AdminToken, []byte(body))
		var out certResponse
		json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}
	steps := []struct {
		name       string
		path, body string
		status     int
		want       string
		reason     string
	}{
		{"hold", "/revoke", `{"reason":"certificateHold"}`, 200, "on-hold", "certificateHold"},
		{"release", "/release", ``, 200, "valid", ""},
		{"release again changes nothing", "/release", ``, 200, "valid", ""},
		{"revoke", "/revoke", `{"reason":"superseded"}`, 200, "revoked", "superseded"},
		{"revoke again is idempotent", "/revoke", `{"reason":"keyCompromise"}`, 200, "revoked", "superseded"},
		{"release a revoked certificate", "/release", ``, 409, "", ""},
		{"unknown reason", "/revoke", `{"reason":"bored"}`, 400, "", ""},
	}
	for _, s := range steps {
		status, got := post(s.path, s.body)
		if status != s.status || (s.want != "" && (got.Status != s.want || got.Reason != s.reason)) {
			t.Fatalf("%s: %d %+v, want %d %s %s", s.name, status, got, s.status, s.want, s.reason)
		}
	}
	resp, _ := env.Do(t, "POST", "/v1/certificates/00ff/revoke", env.AdminToken, []byte(`{}`))
	if resp.StatusCode != 404 {
		t.Errorf("revoking an unknown serial: %d, want 404", resp.StatusCode)
	}
	// The audit log holds one entry per change, not per request.
	resp, b := env.Do(t, "GET", "/v1/audit/verify", env.AdminToken, nil)
	var rep struct {
		OK      bool
		Entries int
	}
	json.Unmarshal(b, &rep)
	_, entries := counts(t, env)
	if resp.StatusCode != 200 || !rep.OK || rep.Entries != entries {
		t.Fatalf("audit verify: %d %s (store holds %d entries)", resp.StatusCode, b, entries)
	}
}

func TestListCertificates(t *testing.T) {
	needOpenSSL(t)
	env := apitest.Start(t, apitest.Options{})
	var serials []string
	for i := 0; i < 5; i++ {
		serials = append(serials, issue(t, env, "person-signing", person).Serial)
	}
	env.Do(t, "POST", "/v1/certificates/"+serials[0]+"/revoke", env.AdminToken, []byte(`{"reason":"keyCompromise"}`))
	tests := []struct {
		query        string
		status       int
		items, total int
	}{
		{"?pageSize=2", 200, 2, 8}, // five issued plus the OCSP, TSA and receipt-seal certificates
		{"?pageSize=2&page=4", 200, 2, 8},
		{"?pageSize=3&page=3", 200, 2, 8},
		{"?status=revoked", 200, 1, 1},
		{"?profile=person-signing&status=valid", 200, 4, 4},
		{"?status=weird", 400, 0, 0},
		{"?page=0", 400, 0, 0},
		{"?pageSize=501", 400, 0, 0},
	}
	for _, tt := range tests {
		resp, b := env.Do(t, "GET", "/v1/certificates"+tt.query, env.AdminToken, nil)
		var page struct {
			Items []certResponse
			Total int
		}
		json.Unmarshal(b, &page)
		if resp.StatusCode != tt.status || (tt.status == 200 && (len(page.Items) != tt.items || page.Total != tt.total)) {
			t.Errorf("%s: %d items=%d total=%d, want %d %d %d", tt.query, resp.StatusCode, len(page.Items), page.Total, tt.status, tt.items, tt.total)
		}
	}
	resp, b := env.Do(t, "GET", "/v1/certificates/"+serials[1], env.AdminToken, nil)
	var one certResponse
	json.Unmarshal(b, &one)
	if resp.StatusCode != 200 || one.Serial != serials[1] || one.Certificate == "" {
		t.Errorf("get: %d %s", resp.StatusCode, b)
	}
}

// TestAuditTamperDetected edits one audit row behind the store's back and
// expects the verify endpoint to name exactly that entry.
func TestAuditTamperDetected(t *testing.T) {
	needOpenSSL(t)
	env := apitest.Start(t, apitest.Options{})
	issue(t, env, "person-signing", person)
	db, ok := env.App.Store.(interface{ DB() *sql.DB })
	if !ok {
		t.Fatalf("store %T exposes no DB for this test", env.App.Store)
	}
	var seq int64
	if err := db.DB().QueryRow("SELECT MAX(seq) FROM audit_log WHERE kind = 'certificate.issued'").Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DB().Exec("UPDATE audit_log SET actor = 'someone else' WHERE seq = ?", seq); err != nil {
		t.Fatal(err)
	}
	_, b := env.Do(t, "GET", "/v1/audit/verify", env.AdminToken, nil)
	var rep struct {
		OK       bool
		BrokenAt int64
	}
	json.Unmarshal(b, &rep)
	if rep.OK || rep.BrokenAt != seq {
		t.Fatalf("audit verify after tampering with entry %d: %s", seq, b)
	}
}
