package report

import (
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// maxNameBytes bounds a report name, leaving room for a suffix and an
// extension under the 255-byte limit of common file systems.
const maxNameBytes = 120

// FileNames gives each input path a name to file its reports under (in a
// report directory or an evidence bundle): the base name with every
// character other than letters, digits, '.', '-' and '_' replaced by '_',
// never starting with a dot, and unique among the names returned even on
// a case-insensitive file system ("faktura.xml", "faktura.xml-2"). "index"
// is kept for the summary page. The i-th name is for the i-th path.
func FileNames(paths []string) []string {
	used := map[string]bool{"index": true}
	out := make([]string, len(paths))
	for i, p := range paths {
		base := safeName(filepath.Base(p))
		name := base
		for n := 2; used[strings.ToLower(name)]; n++ {
			name = base + "-" + strconv.Itoa(n)
		}
		used[strings.ToLower(name)] = true
		out[i] = name
	}
	return out
}

func safeName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len()+len(string(r)) > maxNameBytes {
			break
		}
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "file"
	}
	return b.String()
}
