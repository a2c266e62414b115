package api

import (
	"errors"
	"io"
	"net/http"
	"time"

	"esig/ca/store"
	"esig/ra"
)

// applicationView is how the API shows an application. Personal data is
// shown while it is kept.
type applicationView struct {
	ID                string        `json:"id"`
	SubscriberID      string        `json:"subscriberId"`
	Profile           string        `json:"profile"`
	Status            string        `json:"status"`
	Applicant         *ra.Applicant `json:"applicant,omitempty"`
	CreatedAt         time.Time     `json:"createdAt"`
	ExpiresAt         time.Time     `json:"expiresAt"`
	ConfirmedAt       *time.Time    `json:"confirmedAt,omitempty"`
	ProofMethod       string        `json:"proofMethod,omitempty"`
	CertificateSerial string        `json:"certificateSerial,omitempty"`
	DocumentURL       string        `json:"documentUrl"`
	// Enrollment is present once, in the answer that confirmed the
	// application: the one-time link to hand to the applicant.
	Enrollment *enrollmentLink `json:"enrollment,omitempty"`
}

type enrollmentLink struct {
	Token     string    `json:"token"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (s *Server) applicationView(a *store.Application) applicationView {
	v := applicationView{ID: a.ID, SubscriberID: a.SubscriberID, Profile: a.Profile, Status: string(a.Status),
		CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt, ProofMethod: a.ProofMethod, CertificateSerial: a.CertificateSerial,
		DocumentURL: "/v1/applications/" + a.ID + "/document"}
	if a.Applicant != nil {
		ap := ra.ApplicantOf(a)
		v.Applicant = &ap
	}
	if !a.ConfirmedAt.IsZero() {
		t := a.ConfirmedAt
		v.ConfirmedAt = &t
	}
	return v
}

func (s *Server) withToken(a *store.Application, token string) applicationView {
	v := s.applicationView(a)
	v.Enrollment = &enrollmentLink{Token: token, URL: s.d.BaseURL + "/enroll/" + token, ExpiresAt: a.TokenExpiresAt}
	return v
}

// raError maps the RA's errors to problems.
func (s *Server) raError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ra.ErrNotFound):
		s.problem(w, Problem{Type: ProblemNotFound, Status: http.StatusNotFound, Detail: err.Error()})
	case errors.Is(err, ra.ErrWrongState), errors.Is(err, ra.ErrDeactivated):
		s.problem(w, Problem{Type: ProblemConflict, Status: http.StatusConflict, Detail: err.Error()})
	case errors.Is(err, ra.ErrTokenInvalid):
		s.problem(w, Problem{Type: ProblemGone, Status: http.StatusGone, Detail: err.Error()})
	case errors.Is(err, ra.ErrProofMismatch):
		s.problem(w, Problem{Type: ProblemProofRefused, Status: http.StatusUnprocessableEntity, Detail: err.Error()})
	case errors.Is(err, ra.ErrNoVerifier):
		s.problem(w, Problem{Type: ProblemUnavailable, Status: http.StatusNotImplemented, Detail: err.Error()})
	default:
		s.caError(w, r, err)
	}
}

type newApplicationRequest struct {
	Profile   string       `json:"profile"`
	Applicant ra.Applicant `json:"applicant"`
}

func (s *Server) createApplication(w http.ResponseWriter, r *http.Request) {
	var req newApplicationRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	a, err := s.d.RA.CreateApplication(r.Context(), ra.NewApplication{Profile: req.Profile, Applicant: req.Applicant, Actor: actor(r)})
	if err != nil {
		s.raError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/applications/"+a.ID)
	writeJSON(w, http.StatusCreated, s.applicationView(a))
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) {
	a, err := s.d.RA.Application(r.Context(), r.PathValue("id"))
	if err != nil {
		s.raError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.applicationView(a))
}

func (s *Server) applicationDocument(w http.ResponseWriter, r *http.Request) {
	a, err := s.d.RA.Application(r.Context(), r.PathValue("id"))
	if err != nil {
		s.raError(w, r, err)
		return
	}
	if a.Applicant == nil {
		s.problem(w, Problem{Type: ProblemConflict, Status: http.StatusConflict, Detail: "the application's data was purged"})
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write(ra.ApplicationDocument(a))
}

// readSigned reads a signed document sent as the raw body.
func (s *Server) readSigned(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(r.Body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		s.problem(w, Problem{Type: ProblemTooLarge, Status: http.StatusRequestEntityTooLarge, Detail: "the signed document is too large"})
		return nil, false
	case err != nil:
		s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Detail: "reading the body: " + err.Error()})
		return nil, false
	case len(body) == 0:
		s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Field: "body", Detail: "send the signed document (XAdES or CAdES) as the body"})
		return nil, false
	}
	return body, true
}

func (s *Server) proveApplication(w http.ResponseWriter, r *http.Request) {
	signed, ok := s.readSigned(w, r)
	if !ok {
		return
	}
	a, token, err := s.d.RA.ProveBySignature(r.Context(), r.PathValue("id"), signed, actor(r))
	if err != nil {
		s.raError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.withToken(a, token))
}

type confirmRequest struct {
	DocumentType   string `json:"documentType"`
	DocumentNumber string `json:"documentNumber"`
}

func (s *Server) confirmApplication(w http.ResponseWriter, r *http.Request) {
	var req confirmRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	a, token, err := s.d.RA.ConfirmInPerson(r.Context(), r.PathValue("id"), req.DocumentType, req.DocumentNumber, actor(r))
	if err != nil {
		s.raError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.withToken(a, token))
}

type subscriberView struct {
	ID            string            `json:"id"`
	CreatedAt     time.Time         `json:"createdAt"`
	DeactivatedAt *time.Time        `json:"deactivatedAt,omitempty"`
	Certificates  []certificateView `json:"certificates"`
	Revoked       []string          `json:"revoked,omitempty"`
}

func (s *Server) subscriber(w http.ResponseWriter, r *http.Request, revoked []string) {
	sub, err := s.d.RA.Subscriber(r.Context(), r.PathValue("id"))
	if err != nil {
		s.raError(w, r, err)
		return
	}
	certs, _, err := s.d.Authority.List(r.Context(), store.ListFilter{SubscriberID: sub.ID, Page: 1, PageSize: 500})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	v := subscriberView{ID: sub.ID, CreatedAt: sub.CreatedAt, Certificates: make([]certificateView, 0, len(certs)), Revoked: revoked}
	if !sub.DeactivatedAt.IsZero() {
		t := sub.DeactivatedAt
		v.DeactivatedAt = &t
	}
	for _, c := range certs {
		v.Certificates = append(v.Certificates, s.view(c, false))
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) getSubscriber(w http.ResponseWriter, r *http.Request) { s.subscriber(w, r, nil) }

func (s *Server) deactivationDocument(w http.ResponseWriter, r *http.Request) {
	sub, err := s.d.RA.Subscriber(r.Context(), r.PathValue("id"))
	if err != nil {
		s.raError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write(ra.DeactivationDocument(sub, time.Now()))
}

func (s *Server) requestDeactivation(w http.ResponseWriter, r *http.Request) {
	signed, ok := s.readSigned(w, r)
	if !ok {
		return
	}
	revoked, err := s.d.RA.DeactivateBySignature(r.Context(), r.PathValue("id"), signed, actor(r))
	if err != nil {
		s.raError(w, r, err)
		return
	}
	s.subscriber(w, r, revoked)
}

type deactivateRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) deactivateSubscriber(w http.ResponseWriter, r *http.Request) {
	var req deactivateRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	if req.Reason == "" {
		s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Field: "reason", Detail: "an officer's order states its reason"})
		return
	}
	revoked, err := s.d.RA.Deactivate(r.Context(), r.PathValue("id"), actor(r), map[string]string{"by": "officer's order", "reason": req.Reason})
	if err != nil {
		s.raError(w, r, err)
		return
	}
	s.subscriber(w, r, revoked)
}

type enrollmentView struct {
	Profile   string    `json:"profile"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (s *Server) getEnrollment(w http.ResponseWriter, r *http.Request) {
	en, err := s.d.RA.LookupEnrollment(r.Context(), r.PathValue("token"))
	if err != nil {
		s.raError(w, r, err)
		return
	}
	name := en.Applicant.GivenName + " " + en.Applicant.Surname
	if en.Applicant.OrganizationName != "" && en.Applicant.GivenName == "" {
		name = en.Applicant.OrganizationName
	}
	writeJSON(w, http.StatusOK, enrollmentView{Profile: en.Application.Profile, Name: name, ExpiresAt: en.Application.TokenExpiresAt})
}

type enrollRequest struct {
	CSR string `json:"csr"`
}

func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	var req enrollRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	c, err := s.d.RA.Enroll(r.Context(), r.PathValue("token"), []byte(req.CSR))
	if err != nil {
		s.raError(w, r, err)
		return
	}
	s.metrics.issued.WithLabelValues(c.Profile).Inc()
	writeJSON(w, http.StatusCreated, s.view(c, true))
}

type webhookRequest struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

type webhookView struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"createdAt"`
	Secret    string    `json:"secret,omitempty"`
	LastError string    `json:"lastError,omitempty"`
	Attempts  int       `json:"failedAttempts"`
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var req webhookRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	h, secret, err := s.d.RA.NewWebhook(r.Context(), req.URL, req.Events, actor(r))
	if err != nil {
		s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Detail: err.Error()})
		return
	}
	writeJSON(w, http.StatusCreated, webhookView{ID: h.ID, URL: h.URL, Events: h.Events, CreatedAt: h.CreatedAt, Secret: secret})
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	hooks, err := s.d.Store.Webhooks(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]webhookView, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, webhookView{ID: h.ID, URL: h.URL, Events: h.Events, CreatedAt: h.CreatedAt, LastError: h.LastError, Attempts: h.Attempts})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.d.RA.DeleteWebhook(r.Context(), id, actor(r))
	if errors.Is(err, store.ErrNotFound) {
		s.problem(w, Problem{Type: ProblemNotFound, Status: http.StatusNotFound, Detail: "no webhook " + id})
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
