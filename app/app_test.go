package app

import (
	"strings"
	"testing"
	"time"

	"esig/internal/config"
)

func TestProfileOverrides(t *testing.T) {
	p, err := Profiles(map[string]config.Profile{"person-signing": {Validity: 365 * 24 * time.Hour, Policies: []string{"1.2.616.1.113527.2.5.1.1", "0.4.0.2042.1.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	ps := p["person-signing"]
	if ps.Validity != 365*24*time.Hour || len(ps.Policies) != 2 || ps.Policies[0].String() != "1.2.616.1.113527.2.5.1.1" {
		t.Fatalf("override not applied: %+v", ps)
	}
	if p["person-auth"].Validity != 2*365*24*time.Hour {
		t.Error("an override leaked into another profile")
	}
	tests := []struct {
		name string
		o    map[string]config.Profile
		want string
	}{
		{"unknown profile", map[string]config.Profile{"tls-server": {}}, "profiles.tls-server"},
		{"bad oid", map[string]config.Profile{"person-auth": {Policies: []string{"1.2.x"}}}, "profiles.person-auth.policies"},
		{"one arc", map[string]config.Profile{"person-auth": {Policies: []string{"7"}}}, "profiles.person-auth.policies"},
		{"too short", map[string]config.Profile{"person-auth": {Validity: time.Minute}}, "validity"},
	}
	for _, tt := range tests {
		if _, err := Profiles(tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming %q", tt.name, err, tt.want)
		}
	}
}
