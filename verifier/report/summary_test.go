package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func batch() []*Report {
	mk := func(file string, sigs ...*Signature) *Report {
		r := &Report{File: file, Signatures: sigs}
		r.Finish()
		return r
	}
	sig := func(format string, i Indication) *Signature { return &Signature{Format: format, Indication: i} }
	return []*Report{
		mk("a.p7m", sig("CAdES-BASELINE-B", TotalPassed)),
		mk("b.p7m", sig("CAdES-BASELINE-B", TotalFailed)),
		mk("c.xml", sig("XAdES-BASELINE-T", TotalPassed), sig("XAdES-BASELINE-T", Indeterminate)),
		mk("d.txt"),
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize(batch())
	want := []FormatCount{
		{NoSignatureFormat, Count{Indeterminate: 1}},
		{"CAdES-BASELINE-B", Count{Passed: 1, Failed: 1}},
		{"XAdES-BASELINE-T", Count{Passed: 1, Indeterminate: 1}},
	}
	if len(s.Formats) != len(want) {
		t.Fatalf("formats %+v, want %+v", s.Formats, want)
	}
	for i, w := range want {
		if s.Formats[i] != w {
			t.Errorf("row %d: %+v, want %+v", i, s.Formats[i], w)
		}
	}
	if s.Files != (Count{Passed: 1, Failed: 1, Indeterminate: 2}) || s.Files.Total() != 4 {
		t.Errorf("files %+v", s.Files)
	}
}

func TestWriteSummary(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSummary(&buf, Summarize(batch())); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	want := [][]string{
		{"signatures by format", "passed", "failed", "indeterminate", "total"},
		{"(no", "signature)", "0", "0", "1", "1"},
		{"CAdES-BASELINE-B", "1", "1", "0", "2"},
		{"XAdES-BASELINE-T", "1", "0", "1", "2"},
		{"files", "1", "1", "2", "4"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); strings.Join(got, " ") != strings.Join(w, " ") {
			t.Errorf("line %d: %q, want %q", i, lines[i], strings.Join(w, " "))
		}
		// Names to the left, counts right-aligned: every line is as wide.
		if len(lines[i]) != len(lines[0]) {
			t.Errorf("line %d is %d wide, the header %d", i, len(lines[i]), len(lines[0]))
		}
	}
}

func TestWriteIndexHTML(t *testing.T) {
	reports := batch()
	reports[0].File = `<script>alert(1)</script>.p7m`
	names := FileNames([]string{reports[0].File, "b.p7m", "c.xml", "d.txt"})
	var entries []IndexEntry
	for i, r := range reports {
		entries = append(entries, IndexEntry{Report: r, Name: names[i]})
	}
	var buf bytes.Buffer
	if err := WriteIndexHTML(&buf, entries, Summarize(reports), time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`href="b.p7m.html"`, `href="c.xml.json"`, `href="d.txt.xml"`,
		"&lt;script&gt;", "2026-05-01 12:00:00 UTC", "XAdES-BASELINE-T", `class="failed"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("index lacks %s", want)
		}
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "http://") || strings.Contains(out, "https://") {
		t.Error("the index runs script or loads something from the network")
	}
}

func TestFileNames(t *testing.T) {
	cases := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"base names kept", []string{"dir/faktura.xml", "other/umowa.p7m"}, []string{"faktura.xml", "umowa.p7m"}},
		{"same base name in two directories", []string{"a/x.p7m", "b/x.p7m", "c/X.P7M"}, []string{"x.p7m", "x.p7m-2", "X.P7M-3"}},
		{"unsafe characters", []string{"a b/c:d?.xml", "..", "/", "zgłoszenie ZUS.xml"}, []string{"c_d_.xml", "_.", "_", "zgłoszenie_ZUS.xml"}},
		{"hidden file", []string{"dir/.env"}, []string{"_env"}},
		{"index is reserved", []string{"index", "INDEX"}, []string{"index-2", "INDEX-3"}},
		{"long name cut", []string{strings.Repeat("a", 300) + ".xml"}, []string{strings.Repeat("a", maxNameBytes)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := FileNames(tc.paths)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("FileNames(%q) = %q, want %q", tc.paths, got, tc.want)
			}
		})
	}
}
