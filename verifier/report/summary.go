package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// NoSignatureFormat is the format row a file without any signature is
// counted under in a Summary.
const NoSignatureFormat = "(no signature)"

// Count is how many verdicts came out passed, failed and indeterminate. A
// file without signatures counts as indeterminate, as its exit status does.
type Count struct {
	Passed        int `json:"passed"`
	Failed        int `json:"failed"`
	Indeterminate int `json:"indeterminate"`
}

// Total is the number of verdicts counted.
func (c Count) Total() int { return c.Passed + c.Failed + c.Indeterminate }

func (c *Count) add(i Indication) {
	switch i {
	case TotalPassed:
		c.Passed++
	case TotalFailed:
		c.Failed++
	default:
		c.Indeterminate++
	}
}

// FormatCount is the count of the signatures of one format.
type FormatCount struct {
	Format string `json:"format"`
	Count
}

// Summary counts the verdicts of a batch: signatures by format (top-level
// signatures; counter-signatures are part of their parent's verdict) and
// files by their report's indication.
type Summary struct {
	Formats []FormatCount `json:"formats"`
	Files   Count         `json:"files"`
}

// Summarize counts the reports' verdicts. Formats come sorted by name.
func Summarize(reports []*Report) Summary {
	var s Summary
	byFormat := map[string]*Count{}
	count := func(format string, i Indication) {
		c := byFormat[format]
		if c == nil {
			c = &Count{}
			byFormat[format] = c
		}
		c.add(i)
	}
	for _, r := range reports {
		s.Files.add(r.Indication)
		if len(r.Signatures) == 0 {
			count(NoSignatureFormat, r.Indication)
		}
		for _, sig := range r.Signatures {
			count(sig.Format, sig.Indication)
		}
	}
	for f, c := range byFormat {
		s.Formats = append(s.Formats, FormatCount{Format: f, Count: *c})
	}
	slices.SortFunc(s.Formats, func(a, b FormatCount) int { return strings.Compare(a.Format, b.Format) })
	return s
}

// WriteSummary writes the summary as a table for a terminal: one row per
// signature format, then the files; names to the left, counts to the right.
func WriteSummary(w io.Writer, s Summary) error {
	rows := [][]string{{"signatures by format", "passed", "failed", "indeterminate", "total"}}
	row := func(name string, c Count) {
		rows = append(rows, []string{name, fmt.Sprint(c.Passed), fmt.Sprint(c.Failed), fmt.Sprint(c.Indeterminate), fmt.Sprint(c.Total())})
	}
	for _, f := range s.Formats {
		row(f.Format, f.Count)
	}
	row("files", s.Files)
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s", widths[0], r[0])
		for i, c := range r[1:] {
			fmt.Fprintf(&b, "  %*s", widths[i+1], c)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// IndexEntry is one file of a report directory's summary page: its report
// and the name its per-file reports are filed under (see FileNames).
type IndexEntry struct {
	Report *Report
	Name   string
}

//go:embed index.tmpl
var indexFS embed.FS

// indexTemplate is parsed on first use, like htmlTemplate.
var indexTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("index.tmpl").Funcs(template.FuncMap{
		"date":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 MST") },
		"href":  func(name, ext string) string { return url.PathEscape(name + ext) },
		"class": indicationClass,
		"formats": func(r *Report) string {
			var out []string
			for _, s := range r.Signatures {
				if !slices.Contains(out, s.Format) {
					out = append(out, s.Format)
				}
			}
			return strings.Join(out, ", ")
		},
	}).ParseFS(indexFS, "index.tmpl"))
})

// WriteIndexHTML writes the summary page of a report directory: the counts
// and, per file, its result with links to NAME.html, NAME.json and
// NAME.xml beside the page. It needs no external resources.
func WriteIndexHTML(w io.Writer, entries []IndexEntry, s Summary, validationTime time.Time) error {
	return indexTemplate().Execute(w, struct {
		Entries        []IndexEntry
		Summary        Summary
		ValidationTime time.Time
		Generated      time.Time
	}{entries, s, validationTime, time.Now()})
}
