package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ocsp"

	"esig/api/apitest"
	"esig/api/auth"
)

func csrPEM(t testing.TB) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "from the browser"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

type raEnv struct {
	*apitest.Env
	portal, officer string
}

func startRA(t *testing.T, opts apitest.Options) *raEnv {
	env := apitest.Start(t, opts)
	portal, _, err := auth.Create(t.Context(), env.App.Store, "customs portal", []string{auth.ScopeRAWrite}, "test")
	if err != nil {
		t.Fatal(err)
	}
	officer, _, err := auth.Create(t.Context(), env.App.Store, "officer", []string{auth.ScopeRAApprove, auth.ScopeRead}, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &raEnv{Env: env, portal: portal, officer: officer}
}

type appView struct {
	ID           string `json:"id"`
	SubscriberID string `json:"subscriberId"`
	Status       string `json:"status"`
	Applicant    *struct {
		PESEL string `json:"pesel"`
	} `json:"applicant"`
	CertificateSerial string `json:"certificateSerial"`
	Enrollment        *struct {
		Token, URL string
	} `json:"enrollment"`
}

func (e *raEnv) call(t *testing.T, method, path, token, body string, want int) []byte {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	resp, out := e.Do(t, method, path, token, b)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, out)
	}
	return out
}

const applicantJSON = `{"profile":"person-signing","applicant":{"givenName":"Anna","surname":"Nowak","pesel":"02270803624","email":"anna@example.pl","phone":"+48 600 100 200"}}`

// apply creates an application and has an officer confirm it in person.
func (e *raEnv) apply(t *testing.T) (appView, string) {
	t.Helper()
	var a appView
	json.Unmarshal(e.call(t, "POST", "/v1/applications", e.portal, applicantJSON, 201), &a)
	doc := e.call(t, "GET", "/v1/applications/"+a.ID+"/document", e.portal, "", 200)
	if !strings.Contains(string(doc), a.ID) || !strings.Contains(string(doc), "02270803624") {
		t.Fatalf("application document lacks the application: %s", doc)
	}
	var c appView
	json.Unmarshal(e.call(t, "POST", "/v1/applications/"+a.ID+"/confirm", e.officer, `{"documentType":"identity-card","documentNumber":"ABA300000"}`, 200), &c)
	if c.Status != "confirmed" || c.Enrollment == nil || !strings.HasSuffix(c.Enrollment.URL, "/enroll/"+c.Enrollment.Token) {
		t.Fatalf("confirmation: %+v", c)
	}
	return a, c.Enrollment.Token
}

func TestEnrollmentInPersonAndDeactivation(t *testing.T) {
	for _, v := range []struct {
		name string
		opts apitest.Options
	}{{"sqlite", apitest.Options{}}, {"postgres", apitest.Options{Postgres: true}}} {
		t.Run(v.name, func(t *testing.T) { enrollAndDeactivate(t, startRA(t, v.opts)) })
	}
}

func enrollAndDeactivate(t *testing.T, e *raEnv) {
	a, token := e.apply(t)

	// The portal cannot issue directly.
	resp, _ := e.Do(t, "POST", "/v1/certificates", e.portal, issueBody(csrPEM(t), "person-signing", person))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a portal key issued directly: %d", resp.StatusCode)
	}
	// The link shows what it is for, then enrolls once.
	info := e.call(t, "GET", "/v1/enroll/"+token, "", "", 200)
	if !strings.Contains(string(info), "Anna Nowak") {
		t.Fatalf("enrollment info: %s", info)
	}
	var cr certResponse
	json.Unmarshal(e.call(t, "POST", "/v1/enroll/"+token, "", `{"csr":`+jsonString(csrPEM(t))+`}`, 201), &cr)
	cert := parsePEMCert(t, cr.Certificate)
	if cert.Subject.SerialNumber != "PNOPL-02270803624" || cert.Subject.CommonName != "Anna Nowak" {
		t.Fatalf("issued subject %v", cert.Subject)
	}
	e.call(t, "POST", "/v1/enroll/"+token, "", `{"csr":`+jsonString(csrPEM(t))+`}`, 410) // replayed
	e.call(t, "GET", "/v1/enroll/"+token, "", "", 410)
	e.call(t, "POST", "/v1/enroll/not-a-token", "", `{"csr":"x"}`, 410)
	var after appView
	json.Unmarshal(e.call(t, "GET", "/v1/applications/"+a.ID, e.portal, "", 200), &after)
	if after.Status != "enrolled" || after.CertificateSerial != cr.Serial {
		t.Fatalf("application after enrollment: %+v", after)
	}

	// Deactivation on an officer's order revokes the certificate.
	e.call(t, "POST", "/v1/subscribers/"+a.SubscriberID+"/deactivate", e.portal, `{"reason":"x"}`, 403)
	e.call(t, "POST", "/v1/subscribers/"+a.SubscriberID+"/deactivate", e.officer, `{}`, 400)
	out := e.call(t, "POST", "/v1/subscribers/"+a.SubscriberID+"/deactivate", e.officer, `{"reason":"account deletion requested at the counter"}`, 200)
	if !strings.Contains(string(out), cr.Serial) || !strings.Contains(string(out), `"deactivatedAt"`) {
		t.Fatalf("deactivation: %s", out)
	}
	assertRevoked(t, e.Env, cert, ocsp.CessationOfOperation)

	// The same person registering again keeps the subscriber id.
	var again appView
	json.Unmarshal(e.call(t, "POST", "/v1/applications", e.portal, applicantJSON, 201), &again)
	if again.SubscriberID != a.SubscriberID {
		t.Fatalf("re-registration got subscriber %s, want %s", again.SubscriberID, a.SubscriberID)
	}
	sub := e.call(t, "GET", "/v1/subscribers/"+a.SubscriberID, e.portal, "", 200)
	if strings.Contains(string(sub), "deactivatedAt") {
		t.Errorf("re-registration did not reactivate the subscriber: %s", sub)
	}
}

func TestApplicationInputErrors(t *testing.T) {
	e := startRA(t, apitest.Options{})
	tests := []struct {
		name, body, field string
	}{
		{"pesel", `{"profile":"person-signing","applicant":{"givenName":"A","surname":"B","pesel":"02270803625","email":"a@b.pl"}}`, "applicant.pesel"},
		{"email", `{"profile":"person-signing","applicant":{"givenName":"A","surname":"B","pesel":"02270803624"}}`, "applicant.email"},
		{"phone", `{"profile":"person-signing","applicant":{"givenName":"A","surname":"B","pesel":"02270803624","email":"a@b.pl","phone":"call me"}}`, "applicant.phone"},
		{"profile", `{"profile":"ocsp","applicant":{}}`, "profile"},
		{"nip", `{"profile":"organization-seal","applicant":{"organizationName":"Firma","nip":"1234563219"}}`, "applicant.nip"},
	}
	for _, tt := range tests {
		out := e.call(t, "POST", "/v1/applications", e.portal, tt.body, 400)
		var p struct{ Field string }
		json.Unmarshal(out, &p)
		if p.Field != tt.field {
			t.Errorf("%s: field %q, want %q (%s)", tt.name, p.Field, tt.field, out)
		}
	}
	a, _ := e.apply(t)
	e.call(t, "POST", "/v1/applications/"+a.ID+"/confirm", e.officer, `{"documentType":"identity-card","documentNumber":"ABA300000"}`, 409)
	e.call(t, "POST", "/v1/applications/app-none/confirm", e.officer, `{"documentType":"identity-card","documentNumber":"ABA300000"}`, 404)
	e.call(t, "POST", "/v1/applications/"+a.ID+"/confirm", e.portal, `{"documentType":"identity-card","documentNumber":"ABA300000"}`, 403)
}

// TestEnrollmentOnceUnderRace sends the same link from many clients at once:
// exactly one certificate may come out.
func TestEnrollmentOnceUnderRace(t *testing.T) {
	e := startRA(t, apitest.Options{})
	_, token := e.apply(t)
	var ok, gone atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := e.Do(t, "POST", "/v1/enroll/"+token, "", []byte(`{"csr":`+jsonString(csrPEM(t))+`}`))
			switch resp.StatusCode {
			case 201:
				ok.Add(1)
			case 410:
				gone.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || gone.Load() != 7 {
		t.Fatalf("%d enrollments succeeded and %d were refused; want 1 and 7", ok.Load(), gone.Load())
	}
}

// TestBadCSRKeepsTheLink: a refused request does not burn the link.
func TestBadCSRKeepsTheLink(t *testing.T) {
	e := startRA(t, apitest.Options{})
	_, token := e.apply(t)
	e.call(t, "POST", "/v1/enroll/"+token, "", `{"csr":"garbage"}`, 400)
	e.call(t, "POST", "/v1/enroll/"+token, "", `{"csr":`+jsonString(csrPEM(t))+`}`, 201)
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }
