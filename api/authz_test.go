package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"esig/api/apitest"
	"esig/api/auth"
	"esig/ca/store"
)

// openAPIDoc fetches the served OpenAPI document.
func openAPIDoc(t *testing.T, env *apitest.Env) map[string]map[string]struct {
	Scope string `json:"x-esig-scope"`
} {
	resp, body := env.Do(t, "GET", "/openapi.json", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %d", resp.StatusCode)
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Scope string `json:"x-esig-scope"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json is not an OpenAPI 3 document: %v", err)
	}
	return doc.Paths
}

// concrete turns a documented path into one that can be requested.
var paramRE = regexp.MustCompile(`\{[^}]+\}`)

func concrete(path string) string {
	return paramRE.ReplaceAllStringFunc(path, func(p string) string {
		switch p {
		case "{file}":
			if strings.HasPrefix(path, "/crl") {
				return "0.crl"
			}
			return "root.crt"
		case "{request}":
			return "MAA="
		}
		return "0a"
	})
}

// TestOpenAPIMatchesRoutes: every documented operation is served, every
// served route is documented, and the documented scope is the enforced one.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	paths := openAPIDoc(t, env)
	served := map[string]string{}
	for _, r := range env.Server.Routes() {
		served[strings.ToLower(r.Method)+" "+strings.ReplaceAll(r.Pattern, "...}", "}")] = r.Scope
	}
	documented := map[string]string{}
	for path, ops := range paths {
		for method, op := range ops {
			documented[method+" "+path] = op.Scope
		}
	}
	var missing, undocumented []string
	for k, scope := range served {
		if d, ok := documented[k]; !ok {
			undocumented = append(undocumented, k)
		} else if d != scope {
			t.Errorf("%s: documented scope %q, enforced %q", k, d, scope)
		}
	}
	for k := range documented {
		if _, ok := served[k]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(undocumented)
	if len(missing)+len(undocumented) > 0 {
		t.Fatalf("documented but not served: %v; served but not documented: %v", missing, undocumented)
	}
	// Each documented operation answers (with the admin key) with
	// something other than "no such route".
	for k := range documented {
		method, path, _ := strings.Cut(k, " ")
		var body []byte
		if method == "post" || method == "put" {
			body = []byte("{}")
		}
		resp, b := env.Do(t, strings.ToUpper(method), concrete(path), env.AdminToken, body)
		if resp.StatusCode == http.StatusMethodNotAllowed || strings.Contains(string(b), "no route") {
			t.Errorf("%s %s is documented but answered %d %s", method, path, resp.StatusCode, b)
		}
	}
}

// TestAuthorizationMatrix tries every protected route with no key, a bad
// key, a revoked key and a key of each scope.
func TestAuthorizationMatrix(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	tokens := map[string]string{}
	for _, s := range auth.AllScopes {
		tok, _, err := auth.Create(t.Context(), env.App.Store, "key "+s, []string{s}, "test")
		if err != nil {
			t.Fatal(err)
		}
		tokens[s] = tok
	}
	revoked, k, _ := auth.Create(t.Context(), env.App.Store, "revoked", []string{auth.ScopeAdmin}, "test")
	if resp, b := env.Do(t, "DELETE", "/v1/apikeys/"+k.ID, env.AdminToken, nil); resp.StatusCode != 204 {
		t.Fatalf("revoking a key: %d %s", resp.StatusCode, b)
	}
	for _, r := range env.Server.Routes() {
		if r.Scope == "" {
			continue
		}
		path := concrete(strings.ReplaceAll(r.Pattern, "...}", "}"))
		var body []byte
		if r.Method == "POST" {
			body = []byte("{}")
		}
		name := r.Method + " " + r.Pattern
		for _, c := range []struct {
			who, token string
			want       int
		}{{"no key", "", 401}, {"bad key", "esig_0000000000000000_" + strings.Repeat("x", 43), 401}, {"revoked key", revoked, 401}} {
			if resp, b := env.Do(t, r.Method, path, c.token, body); resp.StatusCode != c.want {
				t.Errorf("%s with %s: %d, want %d (%s)", name, c.who, resp.StatusCode, c.want, b)
			}
		}
		for scope, tok := range tokens {
			resp, b := env.Do(t, r.Method, path, tok, body)
			allowed := auth.HasScope(&store.APIKey{Scopes: []string{scope}}, r.Scope)
			if allowed && (resp.StatusCode == 401 || resp.StatusCode == 403) {
				t.Errorf("%s with scope %s: refused %d (%s)", name, scope, resp.StatusCode, b)
			}
			if !allowed && resp.StatusCode != 403 {
				t.Errorf("%s with scope %s: %d, want 403 (%s)", name, scope, resp.StatusCode, b)
			}
		}
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/v1/nothing", 404, ""},
		{"DELETE", "/v1/ca/chain", 405, "GET"},
		{"PUT", "/v1/certificates", 405, "POST, GET"},
	}
	for _, tt := range tests {
		resp, body := env.Do(t, tt.method, tt.path, env.AdminToken, nil)
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("Allow") != tt.allow {
			t.Errorf("%s %s: %d %q Allow=%q: %s", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Allow"), body)
		}
	}
}
