package api

import (
	"errors"
	"net/http"
	"time"

	"esig/api/auth"
	"esig/ca/audit"
	"esig/ca/store"
)

// apiKeyView shows a key without its hash.
type apiKeyView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	// Token is present once, in the answer that created the key.
	Token string `json:"token,omitempty"`
}

func keyView(k *store.APIKey) apiKeyView {
	v := apiKeyView{ID: k.ID, Name: k.Name, Scopes: k.Scopes, CreatedAt: k.CreatedAt.UTC()}
	if !k.RevokedAt.IsZero() {
		t := k.RevokedAt.UTC()
		v.RevokedAt = &t
	}
	return v
}

type createKeyRequest struct {
	Name   string   `json:"name"`
	Scopes []string `json:"scopes"`
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var req createKeyRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	token, k, err := auth.Create(r.Context(), s.d.Store, req.Name, req.Scopes, actor(r))
	var fe *auth.FieldError
	if errors.As(err, &fe) {
		s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Field: fe.Field, Detail: fe.Error()})
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	v := keyView(k)
	v.Token = token
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.d.Store.ListAPIKeys(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]apiKeyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyView(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.d.Store.RevokeAPIKey(r.Context(), id, time.Now(), audit.Event{Kind: audit.KindAPIKeyRevoked, Actor: actor(r), Object: id})
	if errors.Is(err, store.ErrNotFound) {
		s.problem(w, Problem{Type: ProblemNotFound, Status: http.StatusNotFound, Detail: "no API key " + id})
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.auth.Forget(id)
	w.WriteHeader(http.StatusNoContent)
}

// auditReport is the answer of GET /v1/audit/verify.
type auditReport struct {
	OK       bool   `json:"ok"`
	Entries  int64  `json:"entries"`
	BrokenAt int64  `json:"brokenAt,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) {
	var v audit.Verifier
	err := s.d.Store.WalkAudit(r.Context(), v.Add)
	var broken *audit.BrokenError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, auditReport{OK: true, Entries: v.Count()})
	case errors.As(err, &broken):
		writeJSON(w, http.StatusOK, auditReport{OK: false, Entries: v.Count(), BrokenAt: broken.Seq, Reason: broken.Reason})
	default:
		s.internal(w, r, err)
	}
}
