package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func post(t *testing.T, url, token, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s: %d %v", url, resp.StatusCode, out)
	}
	return out
}

// TestEnrollFromTerminal: a portal applies, an officer confirms, and the
// applicant runs esig enroll with the link; the key stays local and matches
// the certificate; the link then no longer works.
func TestEnrollFromTerminal(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s := startServe(t, data)
	mkKey := func(scopes string) string {
		cmd := exec.Command(esigBin, "apikey", "create", "--data", data, "--name", scopes, "--scopes", scopes)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("apikey create: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	portal, officer := mkKey("ra:write"), mkKey("ra:approve")
	app := post(t, s.url+"/v1/applications", portal, `{"profile":"person-auth","applicant":{"givenName":"Jan","surname":"Kowalski","pesel":"44051401359","email":"jan@example.pl"}}`)
	conf := post(t, s.url+"/v1/applications/"+app["id"].(string)+"/confirm", officer, `{"documentType":"identity-card","documentNumber":"ABA300000"}`)
	link := conf["enrollment"].(map[string]any)["url"].(string)

	pass := filepath.Join(dir, "pass")
	os.WriteFile(pass, []byte("correct horse\n"), 0o600)
	key, crt := filepath.Join(dir, "jan.key"), filepath.Join(dir, "jan.crt")
	out, code := esig(t, nil, "enroll", "--url", link, "--key-out", key, "--passphrase-file", pass)
	if code != 0 {
		t.Fatalf("esig enroll: %d %s", code, out)
	}
	keyPEM, _ := os.ReadFile(key)
	if !strings.Contains(string(keyPEM), "ENCRYPTED PRIVATE KEY") {
		t.Fatal("the key file is not encrypted")
	}
	pubFromKey, err := exec.Command("openssl", "pkey", "-in", key, "-passin", "file:"+pass, "-pubout").Output()
	if err != nil {
		t.Fatal(err)
	}
	pubFromCert, err := exec.Command("openssl", "x509", "-in", crt, "-pubkey", "-noout").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pubFromKey, pubFromCert) {
		t.Fatal("the certificate does not certify the key made here")
	}
	if out, code := esig(t, nil, "enroll", "--url", link, "--key-out", filepath.Join(dir, "again.key")); code == 0 || !strings.Contains(out, "410") {
		t.Fatalf("a used link enrolled again: %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "again.key")); err == nil {
		t.Error("a key was made for a dead link")
	}
	s.stop(t)
}
