package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http"
	"strconv"
	"time"

	"esig/ca"
	"esig/ca/issuance"
	"esig/ca/store"
)

// issueRequest is the body of POST /v1/certificates.
type issueRequest struct {
	CSR          string           `json:"csr"`
	Profile      string           `json:"profile"`
	Subject      issuance.Subject `json:"subject"`
	SubscriberID string           `json:"subscriberId,omitempty"`
}

// certificateView is how the API shows a certificate.
type certificateView struct {
	Serial            string     `json:"serial"`
	Status            string     `json:"status"`
	Profile           string     `json:"profile"`
	Subject           string     `json:"subject"`
	SubscriberID      string     `json:"subscriberId,omitempty"`
	NotBefore         time.Time  `json:"notBefore"`
	NotAfter          time.Time  `json:"notAfter"`
	IssuedAt          time.Time  `json:"issuedAt"`
	RevokedAt         *time.Time `json:"revokedAt,omitempty"`
	RevocationReason  string     `json:"revocationReason,omitempty"`
	CRLShard          int        `json:"crlShard"`
	CertificateSHA256 string     `json:"certificateSha256"`
	Certificate       string     `json:"certificate,omitempty"`
	Chain             string     `json:"chain,omitempty"`
}

func pemCert(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func (s *Server) view(c *store.Certificate, withPEM bool) certificateView {
	sum := sha256.Sum256(c.DER)
	v := certificateView{
		Serial: c.Serial, Status: string(c.Status), Profile: c.Profile, Subject: c.Subject, SubscriberID: c.SubscriberID,
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), IssuedAt: c.IssuedAt.UTC(), CRLShard: c.Shard,
		CertificateSHA256: hex.EncodeToString(sum[:]),
	}
	if c.Status == store.StatusValid && time.Now().After(c.NotAfter) {
		v.Status = "expired"
	}
	if !c.RevokedAt.IsZero() {
		t := c.RevokedAt.UTC()
		v.RevokedAt = &t
		v.RevocationReason = ca.ReasonName(c.Reason)
	}
	if withPEM {
		v.Certificate = pemCert(c.DER)
		v.Chain = s.chainPEM()
	}
	return v
}

// ChainPEM is the CA chain as /v1/ca/chain serves it: issuing CA, then root.
func (s *Server) ChainPEM() string { return s.chainPEM() }

func (s *Server) chainPEM() string {
	return pemCert(s.d.Issuing.Raw) + pemCert(s.d.Root.Raw)
}

func (s *Server) issueCertificate(w http.ResponseWriter, r *http.Request) {
	var req issueRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	start := time.Now()
	c, err := s.d.Authority.Issue(r.Context(), ca.IssueRequest{
		CSR: []byte(req.CSR), Profile: req.Profile, Subject: req.Subject, SubscriberID: req.SubscriberID, Actor: actor(r),
	})
	if err != nil {
		s.caError(w, r, err)
		return
	}
	s.metrics.issued.WithLabelValues(c.Profile).Inc()
	s.metrics.issuance.Observe(time.Since(start).Seconds())
	w.Header().Set("Location", "/v1/certificates/"+c.Serial)
	writeJSON(w, http.StatusCreated, s.view(c, true))
}

// caError maps the CA's errors to problems.
func (s *Server) caError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *issuance.FieldError
	var le *issuance.LintError
	switch {
	case errors.As(err, &fe):
		s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Field: fe.Field, Detail: fe.Error()})
	case errors.As(err, &le):
		s.problem(w, Problem{Type: ProblemLint, Status: http.StatusUnprocessableEntity, Detail: le.Error(), Lints: le.Lints})
	case errors.Is(err, ca.ErrNotFound):
		s.problem(w, Problem{Type: ProblemNotFound, Status: http.StatusNotFound, Detail: err.Error()})
	case errors.Is(err, ca.ErrNotOnHold):
		s.problem(w, Problem{Type: ProblemConflict, Status: http.StatusConflict, Detail: err.Error()})
	default:
		s.internal(w, r, err)
	}
}

func (s *Server) getCertificate(w http.ResponseWriter, r *http.Request) {
	c, err := s.d.Authority.Certificate(r.Context(), r.PathValue("serial"))
	if err != nil {
		s.caError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(c, true))
}

// listResponse is one page of GET /v1/certificates.
type listResponse struct {
	Items    []certificateView `json:"items"`
	Page     int               `json:"page"`
	PageSize int               `json:"pageSize"`
	Total    int               `json:"total"`
}

func (s *Server) listCertificates(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.ListFilter{Profile: q.Get("profile"), SubscriberID: q.Get("subscriberId"), Page: 1, PageSize: 50}
	switch st := q.Get("status"); st {
	case "", string(store.StatusValid), string(store.StatusRevoked), string(store.StatusOnHold):
		f.Status = store.Status(st)
	default:
		s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Field: "status", Detail: "status must be valid, revoked or on-hold"})
		return
	}
	for name, dst := range map[string]*int{"page": &f.Page, "pageSize": &f.PageSize} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || (name == "pageSize" && n > 500) {
				s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Field: name, Detail: name + " must be a whole number from 1 (pageSize at most 500)"})
				return
			}
			*dst = n
		}
	}
	certs, total, err := s.d.Authority.List(r.Context(), f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := listResponse{Items: make([]certificateView, 0, len(certs)), Page: f.Page, PageSize: f.PageSize, Total: total}
	for _, c := range certs {
		out.Items = append(out.Items, s.view(c, false))
	}
	writeJSON(w, http.StatusOK, out)
}

// revokeRequest is the body of POST /v1/certificates/{serial}/revoke.
type revokeRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) revokeCertificate(w http.ResponseWriter, r *http.Request) {
	var req revokeRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	reason, err := ca.ParseReason(req.Reason)
	if err != nil {
		s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Field: "reason", Detail: err.Error()})
		return
	}
	c, _, err := s.d.Authority.Revoke(r.Context(), r.PathValue("serial"), reason, actor(r))
	if err != nil {
		s.caError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(c, false))
}

func (s *Server) releaseCertificate(w http.ResponseWriter, r *http.Request) {
	c, _, err := s.d.Authority.ReleaseHold(r.Context(), r.PathValue("serial"), actor(r))
	if err != nil {
		s.caError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.view(c, false))
}
