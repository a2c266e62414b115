package sqlstore

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct {
		name     string
		numbered bool
		in, want string
	}{
		{"question marks kept", false, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = ? AND c = ?"},
		{"numbered", true, "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"no placeholders", true, "SELECT 1", "SELECT 1"},
		{"ten and more", true, "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
		{"adjacent", true, "??", "$1$2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Dialect{Name: "test", NumberedPlaceholders: tc.numbered}
			if got := d.Rebind(tc.in); got != tc.want {
				t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
