package plid

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPESEL(t *testing.T) {
	tests := []struct {
		in       string
		birth    time.Time
		checksum bool   // want ErrChecksum
		errPart  string // else want an error (non-empty) or none
	}{
		{in: "44051401359", birth: time.Date(1944, 5, 14, 0, 0, 0, 0, time.UTC)},
		{in: "02223101236", birth: time.Time{}, errPart: "birth date"}, // 31 February
		{in: "99010100002", birth: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)},
		{in: "44051401358", checksum: true},
		{in: "4405140135", errPart: "11 digits"},
		{in: "4405140135a", errPart: "digits only"},
		{in: "", errPart: "11 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := PESEL(tt.in)
			switch {
			case tt.checksum:
				if !errors.Is(err, ErrChecksum) {
					t.Fatalf("PESEL(%q) error = %v, want ErrChecksum", tt.in, err)
				}
			case tt.errPart != "":
				if err == nil || !contains(err.Error(), tt.errPart) {
					t.Fatalf("PESEL(%q) error = %v, want one mentioning %q", tt.in, err, tt.errPart)
				}
			default:
				if err != nil || !got.Equal(tt.birth) {
					t.Fatalf("PESEL(%q) = %v, %v; want %v", tt.in, got, err, tt.birth)
				}
			}
		})
	}
}

func TestNIPREGONIdentityCard(t *testing.T) {
	tests := []struct {
		name  string
		check func(string) error
		in    string
		ok    bool
	}{
		{"nip ok", NIP, "5252955037", true},
		{"nip ok 2", NIP, "1234563218", true},
		{"nip bad check", NIP, "5252955038", false},
		{"nip short", NIP, "525295503", false},
		{"nip dashes", NIP, "525-295-50-37", false},
		{"regon9 ok", REGON, "123456785", true},
		{"regon9 bad", REGON, "123456786", false},
		{"regon14 ok", REGON, "12345678512347", true},
		{"regon14 bad", REGON, "12345678512348", false},
		{"regon14 bad parent", REGON, "12345678612340", false},
		{"regon len", REGON, "1234", false},
		{"id card ok", IdentityCard, "ABA300000", true},
		{"id card ok 2", IdentityCard, "ABS012345", true},
		{"id card bad check", IdentityCard, "ABA400000", false},
		{"id card lower", IdentityCard, "aba300000", false},
		{"id card letters late", IdentityCard, "AB1300000", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("check(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
