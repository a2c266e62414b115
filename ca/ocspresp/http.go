package ocspresp

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxRequestSize bounds a POSTed OCSP request; a sound one is a few hundred
// bytes.
const maxRequestSize = 8 << 10

// contentType is the media type of every answer (RFC 6960 A.2), shared and
// never modified.
var contentType = []string{"application/ocsp-response"}

// ServeHTTP serves RFC 6960 appendix A: POST with the DER request as body,
// or GET with the base64 request (URL-encoded) as the last path element.
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var der []byte
	switch req.Method {
	case http.MethodPost:
		body, err := readBody(w, req)
		if err != nil {
			http.Error(w, "OCSP request too large or unreadable", http.StatusRequestEntityTooLarge)
			return
		}
		der = body
	case http.MethodGet:
		raw := req.PathValue("request")
		if raw == "" {
			raw = req.URL.EscapedPath()[strings.LastIndex(req.URL.EscapedPath(), "/")+1:]
		}
		s, err := url.PathUnescape(raw)
		if err == nil {
			der, err = base64.StdEncoding.DecodeString(s)
		}
		if err != nil || len(der) > maxRequestSize {
			der = nil // answered as malformedRequest below
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	resp, err := r.Respond(req.Context(), der)
	if err != nil {
		r.cfg.Log.Error("ocsp: internal error", "err", err)
	}
	// Header values set directly: the keys are canonical already, and this
	// is the hottest path of the server.
	h := w.Header()
	h["Content-Type"] = contentType
	h["Content-Length"] = []string{strconv.Itoa(len(resp))}
	if req.Method == http.MethodGet && err == nil {
		// RFC 5019: GET answers may be cached by HTTP caches, briefly.
		w.Header().Set("Cache-Control", "max-age="+strconv.Itoa(int(r.cfg.Validity/2/time.Second))+", public, no-transform, must-revalidate")
	}
	_, _ = w.Write(resp)
}

// readBody reads a POSTed request of at most maxRequestSize bytes. With a
// Content-Length (what OCSP clients send) it reads into a buffer of exactly
// that size instead of growing one.
func readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	body := http.MaxBytesReader(w, req.Body, maxRequestSize)
	n := req.ContentLength
	if n <= 0 || n > maxRequestSize {
		return io.ReadAll(body)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
