package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"esig/api/apitest"
)

// TestMetrics checks that issuance, OCSP answers and problems are counted
// and exposed in the Prometheus text format.
func TestMetrics(t *testing.T) {
	needOpenSSL(t)
	env := apitest.Start(t, apitest.Options{})
	issue(t, env, "person-signing", person)
	env.Do(t, "POST", "/v1/certificates", "", []byte(`{}`)) // a 401
	req, _ := ocsp.CreateRequest(env.App.TSACert, env.App.Hierarchy.Issuing, nil)
	for i := 0; i < 3; i++ {
		resp, err := http.Post(env.URL+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, body := env.Do(t, "GET", "/metrics", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`esig_certificates_issued_total{profile="person-signing"} 1`,
		`esig_issuance_duration_seconds_count 1`,
		`esig_ocsp_responses_total{outcome="good"} 3`,
		`esig_errors_total{kind="unauthorized"} 1`,
		`esig_http_requests_total{code="201",route="POST /v1/certificates"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
