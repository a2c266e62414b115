// Package api is esig's HTTP interface: the JSON API under /v1 that portal
// backends call, and the public endpoints relying parties reach (CA
// certificates, CRLs, OCSP, time stamps).
//
// Every route is declared once in the route table with its scope; the
// table drives the mux, the authorization check and the test that keeps
// the OpenAPI document honest.
package api

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"esig/api/auth"
	"esig/ca"
	"esig/ca/crl"
	"esig/ca/store"
	"esig/intake"
	"esig/ra"
)

// Deps is what the server serves.
type Deps struct {
	Authority *ca.Authority
	Store     store.Full
	CRL       *crl.Publisher
	OCSP      http.Handler
	TSA       http.Handler // optional
	RA        *ra.RA
	// BaseURL is the public address enrollment links point at.
	BaseURL string
	Root    *x509.Certificate
	Issuing *x509.Certificate
	// RootCRL returns the DER of the root's CRL.
	RootCRL      func() ([]byte, error)
	Log          *slog.Logger
	MaxBodyBytes int64
	// MaxDocumentBytes bounds the bodies of routes that take signed
	// documents (intake, identity proofs).
	MaxDocumentBytes int64
	Intake           *intake.Service
	// RateLimit is the requests per second each API key may make (0: no
	// limit), with bursts up to RateBurst.
	RateLimit float64
	RateBurst int
	// Registry receives the server's metrics; nil makes a private one.
	Registry *prometheus.Registry
}

// Server is the HTTP API.
type Server struct {
	d       Deps
	auth    *auth.Authenticator
	metrics *metrics
	routes  []Route
	handler http.Handler
	limiter *rateLimiter
	// ocspCounters are the OCSP outcome counters by outcome, read-only
	// after New.
	ocspCounters map[string]prometheus.Counter
}

// Route is one endpoint. Scope "" means public.
type Route struct {
	Method  string
	Pattern string // net/http pattern path
	Scope   string
	Handler http.HandlerFunc
	// Documents marks routes that take signed documents, whose bodies may
	// reach MaxDocumentBytes instead of MaxBodyBytes.
	Documents bool
}

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	if d.Authority == nil || d.Store == nil || d.CRL == nil || d.OCSP == nil || d.Root == nil || d.Issuing == nil || d.RootCRL == nil || d.RA == nil || d.Intake == nil {
		return nil, errors.New("api: missing dependencies")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.MaxBodyBytes <= 0 {
		d.MaxBodyBytes = 1 << 20
	}
	if d.MaxDocumentBytes < d.MaxBodyBytes {
		d.MaxDocumentBytes = 32 << 20
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &Server{d: d, auth: auth.NewAuthenticator(d.Store, 5*time.Second), metrics: newMetrics(d.Registry), limiter: newRateLimiter(d.RateLimit, d.RateBurst)}
	s.ocspCounters = make(map[string]prometheus.Counter, len(ocspOutcomes))
	for _, o := range ocspOutcomes {
		s.ocspCounters[o] = s.metrics.OCSP.WithLabelValues(o)
	}
	s.routes = []Route{
		{"POST", "/v1/certificates", auth.ScopeIssue, s.issueCertificate, false},
		{"GET", "/v1/certificates", auth.ScopeRead, s.listCertificates, false},
		{"GET", "/v1/certificates/{serial}", auth.ScopeRead, s.getCertificate, false},
		{"POST", "/v1/certificates/{serial}/revoke", auth.ScopeRevoke, s.revokeCertificate, false},
		{"POST", "/v1/certificates/{serial}/release", auth.ScopeRevoke, s.releaseCertificate, false},
		{"GET", "/v1/ca/chain", "", s.chain, false},
		{"GET", "/v1/apikeys", auth.ScopeAdmin, s.listAPIKeys, false},
		{"POST", "/v1/apikeys", auth.ScopeAdmin, s.createAPIKey, false},
		{"DELETE", "/v1/apikeys/{id}", auth.ScopeAdmin, s.revokeAPIKey, false},
		{"GET", "/v1/audit/verify", auth.ScopeAdmin, s.verifyAudit, false},
		{"POST", "/v1/applications", auth.ScopeRAWrite, s.createApplication, false},
		{"GET", "/v1/applications/{id}", auth.ScopeRAWrite, s.getApplication, false},
		{"GET", "/v1/applications/{id}/document", auth.ScopeRAWrite, s.applicationDocument, false},
		{"POST", "/v1/applications/{id}/proof", auth.ScopeRAWrite, s.proveApplication, true},
		{"POST", "/v1/applications/{id}/confirm", auth.ScopeRAApprove, s.confirmApplication, false},
		{"GET", "/v1/subscribers/{id}", auth.ScopeRAWrite, s.getSubscriber, false},
		{"GET", "/v1/subscribers/{id}/deactivation-document", auth.ScopeRAWrite, s.deactivationDocument, false},
		{"POST", "/v1/subscribers/{id}/deactivation-request", auth.ScopeRAWrite, s.requestDeactivation, true},
		{"POST", "/v1/subscribers/{id}/deactivate", auth.ScopeRAApprove, s.deactivateSubscriber, false},
		{"GET", "/v1/webhooks", auth.ScopeAdmin, s.listWebhooks, false},
		{"POST", "/v1/webhooks", auth.ScopeAdmin, s.createWebhook, false},
		{"DELETE", "/v1/webhooks/{id}", auth.ScopeAdmin, s.deleteWebhook, false},
		{"GET", "/v1/enroll/{token}", "", s.getEnrollment, false},
		{"POST", "/v1/intake", auth.ScopeRAWrite, s.submitDocument, true},
		{"GET", "/v1/receipts/{number}", auth.ScopeRAWrite, s.getReceipt, false},
		{"POST", "/v1/enroll/{token}", "", s.enroll, false},
		{"GET", "/enroll/{token}", "", s.enrollPage, false},
		{"GET", "/assets/{file}", "", s.serveAsset, false},
		{"GET", "/ca/{file}", "", s.caCertificate, false},
		{"GET", "/crl/{file}", "", s.crlFile, false},
		{"GET", "/ocsp/{request...}", "", s.ocsp, false},
		{"POST", "/ocsp", "", s.ocsp, false},
		{"GET", "/openapi.json", "", s.openAPI, false},
		{"GET", "/metrics", "", s.metricsHandler(), false},
		{"GET", "/healthz", "", s.healthz, false},
		{"GET", "/readyz", "", s.readyz, false},
	}
	if d.TSA != nil {
		s.routes = append(s.routes, Route{"POST", "/tsa", "", d.TSA.ServeHTTP, false})
	}
	mux := http.NewServeMux()
	paths := http.NewServeMux() // the same paths for any method: tells 405 from 404
	seen := map[string]bool{}
	for _, r := range s.routes {
		mux.Handle(r.Method+" "+r.Pattern, s.wrap(r))
		if !seen[r.Pattern] {
			paths.Handle(r.Pattern, http.NotFoundHandler())
			seen[r.Pattern] = true
		}
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		if _, pattern := paths.Handler(req); pattern != "" {
			w.Header().Set("Allow", s.allowed(pattern))
			writeProblem(w, Problem{Type: ProblemMethod, Status: http.StatusMethodNotAllowed, Detail: req.Method + " is not served at " + req.URL.Path})
			return
		}
		writeProblem(w, Problem{Type: ProblemNotFound, Status: http.StatusNotFound, Detail: "no route " + req.URL.Path})
	})
	s.handler = mux
	return s, nil
}

func (s *Server) allowed(pattern string) string {
	var m []string
	for _, r := range s.routes {
		if r.Pattern == pattern {
			m = append(m, r.Method)
		}
	}
	return strings.Join(m, ", ")
}

// Routes lists the served endpoints (for the OpenAPI and authorization
// tests).
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Authenticator is the server's API-key checker.
func (s *Server) Authenticator() *auth.Authenticator { return s.auth }

type ctxKey int

const keyCtx ctxKey = 0

// apiKey returns the key that authenticated the request (nil if public).
func apiKey(r *http.Request) *store.APIKey {
	k, _ := r.Context().Value(keyCtx).(*store.APIKey)
	return k
}

func actor(r *http.Request) string {
	if k := apiKey(r); k != nil {
		return "apikey:" + k.ID
	}
	return "anonymous"
}

// statusWriter remembers the status code for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// wrap adds, around a route's handler: panic recovery, metrics and logs,
// the body size limit, and authentication with the route's scope.
func (s *Server) wrap(rt Route) http.Handler {
	name := rt.Method + " " + rt.Pattern
	rm := s.metrics.forRoute(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				s.d.Log.Error("panic serving request", "route", name, "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeProblem(sw, Problem{Type: ProblemInternal, Status: http.StatusInternalServerError})
				}
			}
			elapsed := time.Since(start)
			rm.observe(sw.status, elapsed)
			level := slog.LevelDebug
			if sw.status >= 500 {
				level = slog.LevelError
			} else if sw.status >= 400 {
				level = slog.LevelInfo
			}
			// Checked first: the attributes cost allocations even when the
			// record is then dropped.
			if s.d.Log.Enabled(r.Context(), level) {
				s.d.Log.Log(r.Context(), level, "request", "route", name, "status", sw.status, "duration", elapsed, "actor", actor(r))
			}
		}()
		limit := s.d.MaxBodyBytes
		if rt.Documents {
			limit = s.d.MaxDocumentBytes
		}
		r.Body = http.MaxBytesReader(sw, r.Body, limit)
		if rt.Scope != "" {
			token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok {
				sw.Header().Set("WWW-Authenticate", `Bearer realm="esig"`)
				s.problem(sw, Problem{Type: ProblemUnauthorized, Status: http.StatusUnauthorized, Detail: "send an API key as Authorization: Bearer <key>"})
				return
			}
			k, err := s.auth.Authenticate(r.Context(), strings.TrimSpace(token))
			if err != nil {
				sw.Header().Set("WWW-Authenticate", `Bearer realm="esig", error="invalid_token"`)
				if errors.Is(err, auth.ErrUnauthenticated) {
					s.problem(sw, Problem{Type: ProblemUnauthorized, Status: http.StatusUnauthorized, Detail: err.Error()})
				} else {
					s.internal(sw, r, err)
				}
				return
			}
			if s.limiter != nil {
				if ok, wait := s.limiter.allow(k.ID, time.Now()); !ok {
					sw.Header().Set("Retry-After", retryAfter(wait))
					s.problem(sw, Problem{Type: ProblemRateLimited, Status: http.StatusTooManyRequests, Detail: "this API key is over its request rate; retry after the time in Retry-After"})
					return
				}
			}
			if !auth.HasScope(k, rt.Scope) {
				s.problem(sw, Problem{Type: ProblemForbidden, Status: http.StatusForbidden, Detail: fmt.Sprintf("this route needs the scope %q", rt.Scope)})
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), keyCtx, k))
		}
		rt.Handler(sw, r)
	})
}

// problem writes p and counts it by type.
func (s *Server) problem(w http.ResponseWriter, p Problem) {
	s.metrics.errors.WithLabelValues(strings.TrimPrefix(p.Type, "urn:esig:problem:")).Inc()
	writeProblem(w, p)
}

func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.d.Log.Error("internal error", "path", r.URL.Path, "err", err)
	s.problem(w, Problem{Type: ProblemInternal, Status: http.StatusInternalServerError, Detail: "the error was logged"})
}

// decodeJSON reads a JSON body into v, refusing other media types, unknown
// fields, trailing data and bodies over the limit, with a problem that
// says which.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			s.problem(w, Problem{Type: ProblemUnsupported, Status: http.StatusUnsupportedMediaType, Detail: "send Content-Type: application/json (with curl: --json @file)"})
			return false
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return true
	case errors.As(err, &tooLarge):
		s.problem(w, Problem{Type: ProblemTooLarge, Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("the body is larger than %d bytes", tooLarge.Limit)})
	default:
		p := Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Detail: "body is not valid JSON: " + err.Error()}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			p.Field = typeErr.Field
			p.Detail = fmt.Sprintf("%s must be a JSON %s", typeErr.Field, typeErr.Type)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			p.Field = strings.Trim(f, `"`)
			p.Detail = "unknown field " + f
		}
		s.problem(w, p)
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
