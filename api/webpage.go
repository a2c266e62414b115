package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The enrollment page a citizen opens from a one-time link. The key pair,
// the PKCS#10 request and the PKCS#12 file are made in the browser (see
// web/src); the server only serves static files, built by `make web` into
// web/dist and committed, so that `go build` needs no Node.
var (
	//go:embed web/index.html
	enrollPageHTML []byte

	//go:embed web/dist
	webDist embed.FS
)

// pageCSP allows the page nothing but its own files and the API beside
// them: no inline script or style, no other origin, no framing, no form
// posts (the script handles the form), and no strings into the DOM's HTML
// sinks (require-trusted-types-for; the script writes text only).
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'"

// securityHeaders are set on the page and its assets.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	// The token is in the page's address: no request may carry it onwards.
	h.Set("Referrer-Policy", "no-referrer")
}

// enrollPage serves the page for any token: the script reads the token
// from the address and asks the API about it, so the HTML never contains
// it and is the same for everyone.
func (s *Server) enrollPage(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The address holds a credential: keep it out of every cache.
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(enrollPageHTML)
}

// asset is one file of web/dist, ready to serve.
type asset struct {
	contentType string
	hash        string // of the plain content; the ETags derive from it
	plain, gz   []byte
}

var assetTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
	".svg": "image/svg+xml",
}

// loadAssets reads web/dist once, with each file's ETag and gzip form
// (the bundle shrinks to a quarter).
var loadAssets = sync.OnceValue(func() map[string]asset {
	out := map[string]asset{}
	entries, err := fs.ReadDir(webDist, "web/dist")
	if err != nil {
		panic("api: the embedded web/dist is unreadable: " + err.Error())
	}
	for _, e := range entries {
		ct, ok := assetTypes[path.Ext(e.Name())]
		if !ok || e.IsDir() {
			continue
		}
		b, err := webDist.ReadFile("web/dist/" + e.Name())
		if err != nil {
			panic("api: reading the embedded " + e.Name() + ": " + err.Error())
		}
		sum := sha256.Sum256(b)
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		out[e.Name()] = asset{contentType: ct, hash: hex.EncodeToString(sum[:16]), plain: b, gz: gz.Bytes()}
	}
	return out
})

// serveAsset serves a file of web/dist. The names carry no content hash,
// so browsers revalidate each time (no-cache) and get 304 while the ETag,
// the content's hash, still matches: a new release is never hidden by a
// stale cache.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	a, ok := loadAssets()[name]
	if !ok {
		s.problem(w, Problem{Type: ProblemNotFound, Status: http.StatusNotFound, Detail: "no asset " + name})
		return
	}
	h := w.Header()
	securityHeaders(h)
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, no-cache")
	h.Set("Vary", "Accept-Encoding")
	body, etag := a.plain, `"`+a.hash+`"`
	if acceptsGzip(r) {
		// Another representation, so another strong ETag.
		h.Set("Content-Encoding", "gzip")
		body, etag = a.gz, `"`+a.hash+`-gzip"`
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip
// with a quality above zero.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q, weighted := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !weighted {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
