package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"esig/ca/store"
	"esig/intake"
	"esig/verifier/document"
	"esig/verifier/report"
)

// intakeRequest is the body of POST /v1/intake: the signed document and
// any detached content its signatures cover, base64.
type intakeRequest struct {
	Document []byte         `json:"document"`
	Detached []detachedPart `json:"detached,omitempty"`
}

type detachedPart struct {
	Name    string `json:"name"`
	Content []byte `json:"content"`
}

// intakeResponse carries the receipt (sealed XML) and the report.
type intakeResponse struct {
	Receipt *receiptView   `json:"receipt,omitempty"`
	Report  *report.Report `json:"report"`
}

type receiptView struct {
	Number         string    `json:"number"`
	CreatedAt      time.Time `json:"createdAt"`
	DocumentSHA256 string    `json:"documentSha256"`
	URL            string    `json:"url"`
	XML            string    `json:"xml"`
}

// rejection is the problem of a refused document, with its report.
type rejection struct {
	Problem
	Report *report.Report `json:"report"`
}

func (s *Server) submitDocument(w http.ResponseWriter, r *http.Request) {
	var req intakeRequest
	if !s.decodeJSON(w, r, &req) {
		return
	}
	if len(req.Document) == 0 {
		s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Field: "document", Detail: "the signed document (base64) is required"})
		return
	}
	var parts []document.Part
	for i, p := range req.Detached {
		if strings.TrimSpace(p.Name) == "" {
			s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Field: "detached[" + strconv.Itoa(i) + "].name", Detail: "each detached part needs the name the signature uses for it"})
			return
		}
		parts = append(parts, document.Bytes(p.Name, p.Content))
	}
	out, err := s.d.Intake.Submit(r.Context(), req.Document, parts, actor(r))
	switch {
	case errors.Is(err, intake.ErrRejected):
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(rejection{
			Problem: Problem{Type: ProblemDocumentRejected, Title: problemTitles[ProblemDocumentRejected], Status: http.StatusUnprocessableEntity, Detail: err.Error()},
			Report:  out.Report,
		})
		s.metrics.errors.WithLabelValues("document-rejected").Inc()
		return
	case err != nil:
		if strings.HasPrefix(err.Error(), "document:") || strings.Contains(err.Error(), "detached content") {
			s.problem(w, Problem{Type: ProblemInvalidRequest, Status: http.StatusBadRequest, Detail: err.Error()})
			return
		}
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/receipts/"+out.Receipt.Number)
	writeJSON(w, http.StatusCreated, intakeResponse{Receipt: s.receiptView(out.Receipt), Report: out.Report})
}

func (s *Server) receiptView(rc *store.Receipt) *receiptView {
	return &receiptView{Number: rc.Number, CreatedAt: rc.CreatedAt, DocumentSHA256: rc.DocumentSHA256, URL: "/v1/receipts/" + rc.Number, XML: string(rc.XML)}
}

func (s *Server) getReceipt(w http.ResponseWriter, r *http.Request) {
	rc, err := s.d.Intake.Receipt(r.Context(), r.PathValue("number"))
	if errors.Is(err, store.ErrNotFound) {
		s.problem(w, Problem{Type: ProblemNotFound, Status: http.StatusNotFound, Detail: "no receipt " + r.PathValue("number")})
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write(rc.XML)
}
