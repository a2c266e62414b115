// Package plid validates Polish identifiers that appear in certificate
// subjects: PESEL (persons), NIP (tax number), REGON (business register) and
// the number of a Polish identity card.
//
// Each check verifies the length, the alphabet, the checksum and, for PESEL,
// that the encoded birth date exists. Errors say which part is wrong so an
// applicant can correct a typo.
package plid

import (
	"errors"
	"fmt"
	"time"
)

// ErrChecksum is returned (wrapped) when every character is well formed but
// the check digit does not match: the usual sign of a typo.
var ErrChecksum = errors.New("check digit does not match")

func digits(s string, n int, what string) ([]int, error) {
	if len(s) != n {
		return nil, fmt.Errorf("%s must have %d digits, got %d characters", what, n, len(s))
	}
	d := make([]int, n)
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, fmt.Errorf("%s must contain digits only (character %d is %q)", what, i+1, s[i])
		}
		d[i] = int(s[i] - '0')
	}
	return d, nil
}

// PESEL checks a PESEL number and returns the birth date it encodes.
func PESEL(s string) (time.Time, error) {
	d, err := digits(s, 11, "PESEL")
	if err != nil {
		return time.Time{}, err
	}
	weights := [10]int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i, w := range weights {
		sum += d[i] * w
	}
	if (10-sum%10)%10 != d[10] {
		return time.Time{}, fmt.Errorf("PESEL %s: %w", s, ErrChecksum)
	}
	year := d[0]*10 + d[1]
	month := d[2]*10 + d[3]
	day := d[4]*10 + d[5]
	// The century is carried in the month: +80 for the 1800s, +0 for the
	// 1900s, +20, +40, +60 for the 2000s, 2100s and 2200s.
	var century int
	switch month / 20 {
	case 0:
		century = 1900
	case 1:
		century = 2000
	case 2:
		century = 2100
	case 3:
		century = 2200
	case 4:
		century = 1800
	}
	month %= 20
	birth := time.Date(century+year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if month < 1 || month > 12 || birth.Day() != day || birth.Month() != time.Month(month) {
		return time.Time{}, fmt.Errorf("PESEL %s encodes no valid birth date", s)
	}
	return birth, nil
}

// NIP checks a Polish tax identification number (10 digits, no dashes).
func NIP(s string) error {
	d, err := digits(s, 10, "NIP")
	if err != nil {
		return err
	}
	weights := [9]int{6, 5, 7, 2, 3, 4, 5, 6, 7}
	sum := 0
	for i, w := range weights {
		sum += d[i] * w
	}
	if sum%11 == 10 || sum%11 != d[9] {
		return fmt.Errorf("NIP %s: %w", s, ErrChecksum)
	}
	return nil
}

// REGON checks a 9- or 14-digit REGON. A 14-digit REGON (a local unit)
// begins with the 9-digit REGON of its parent, which must hold too.
func REGON(s string) error {
	switch len(s) {
	case 9:
		return regon(s, []int{8, 9, 2, 3, 4, 5, 6, 7})
	case 14:
		if err := regon(s[:9], []int{8, 9, 2, 3, 4, 5, 6, 7}); err != nil {
			return fmt.Errorf("REGON %s: its first nine digits: %w", s, err)
		}
		return regon(s, []int{2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8})
	default:
		return fmt.Errorf("REGON must have 9 or 14 digits, got %d characters", len(s))
	}
}

func regon(s string, weights []int) error {
	d, err := digits(s, len(weights)+1, "REGON")
	if err != nil {
		return err
	}
	sum := 0
	for i, w := range weights {
		sum += d[i] * w
	}
	if sum%11%10 != d[len(weights)] {
		return fmt.Errorf("REGON %s: %w", s, ErrChecksum)
	}
	return nil
}

// IdentityCard checks the number of a Polish identity card: three letters
// and six digits, the first digit being the check digit.
func IdentityCard(s string) error {
	if len(s) != 9 {
		return fmt.Errorf("identity card number must have 9 characters (3 letters, 6 digits), got %d", len(s))
	}
	weights := [9]int{7, 3, 1, 0, 7, 3, 1, 7, 3}
	sum := 0
	for i := 0; i < 9; i++ {
		c := s[i]
		var v int
		switch {
		case i < 3 && c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		case i >= 3 && c >= '0' && c <= '9':
			v = int(c - '0')
		case i < 3:
			return fmt.Errorf("identity card number: character %d must be an upper-case letter, got %q", i+1, c)
		default:
			return fmt.Errorf("identity card number: character %d must be a digit, got %q", i+1, c)
		}
		sum += v * weights[i]
	}
	if sum%10 != int(s[3]-'0') {
		return fmt.Errorf("identity card number %s: %w", s, ErrChecksum)
	}
	return nil
}
