package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"esig/ca/hierarchy"
)

// chain serves the issuing CA and the root as PEM, in that order.
func (s *Server) chain(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/pem-certificate-chain")
	_, _ = w.Write([]byte(s.chainPEM()))
}

// caCertificate serves the CA certificates as DER, at the caIssuers
// addresses written into certificates.
func (s *Server) caCertificate(w http.ResponseWriter, r *http.Request) {
	var der []byte
	switch "/ca/" + r.PathValue("file") {
	case hierarchy.RootCertPath:
		der = s.d.Root.Raw
	case "/ca/issuing.crt":
		der = s.d.Issuing.Raw
	default:
		s.problem(w, Problem{Type: ProblemNotFound, Status: http.StatusNotFound, Detail: "CA certificates are root.crt and issuing.crt"})
		return
	}
	w.Header().Set("Content-Type", "application/pkix-cert")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(der)
}

// crlFile serves a CRL shard ("N.crl") or the root's CRL ("root.crl").
func (s *Server) crlFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	var der []byte
	var next time.Time
	if "/crl/"+name == hierarchy.RootCRLPath {
		var err error
		if der, err = s.d.RootCRL(); err != nil {
			s.internal(w, r, err)
			return
		}
	} else {
		n, err := strconv.Atoi(strings.TrimSuffix(name, ".crl"))
		if !strings.HasSuffix(name, ".crl") || err != nil || n < 0 || n >= s.d.CRL.Shards() || strconv.Itoa(n)+".crl" != name {
			s.problem(w, Problem{Type: ProblemNotFound, Status: http.StatusNotFound, Detail: "no CRL " + name})
			return
		}
		c, err := s.d.CRL.Current(r.Context(), n)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		der, next = c.DER, c.NextUpdate
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	if !next.IsZero() {
		w.Header().Set("Expires", next.UTC().Format(http.TimeFormat))
	}
	_, _ = w.Write(der)
}

func (s *Server) ocsp(w http.ResponseWriter, r *http.Request) { s.d.OCSP.ServeHTTP(w, r) }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 when the store answers within a second.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if err := s.d.Store.Ping(ctx); err != nil {
		s.problem(w, Problem{Type: ProblemUnavailable, Status: http.StatusServiceUnavailable, Detail: "the store does not answer"})
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ready\n"))
}
