package report

import (
	"embed"
	"html/template"
	"io"
	"sync"
	"time"
)

//go:embed html.tmpl
var htmlFS embed.FS

// htmlTemplate is parsed on first use: most runs write JSON, and parsing
// at init cost every esig process a few tenths of a millisecond.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("html.tmpl").Funcs(template.FuncMap{
		"verdict":       Verdict,
		"qualification": QualificationWords,
		"time": func(t *time.Time) string {
			if t == nil {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04:05 MST")
		},
		"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") },
		"class": indicationClass,
	}).ParseFS(htmlFS, "html.tmpl"))
})

// indicationClass is the CSS class the HTML pages give an indication.
func indicationClass(i Indication) string {
	switch i {
	case TotalPassed:
		return "passed"
	case TotalFailed:
		return "failed"
	}
	return "indeterminate"
}

// WriteHTML writes reports as one printable HTML document: a summary, then
// a page per signature with the verdict in words, the signer, the
// qualification, the trusted-profile identity, the chain, the time stamps
// and exactly what was signed. It needs no external resources.
func WriteHTML(w io.Writer, reports []*Report) error {
	return htmlTemplate().Execute(w, struct {
		Reports   []*Report
		Generated time.Time
	}{reports, time.Now()})
}
