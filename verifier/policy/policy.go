// Package policy holds the cryptographic constraints the verifier applies
// to every signature, certificate, CRL, OCSP response and time stamp it
// relies on: which digest algorithms and key sizes are acceptable, and
// until when.
//
// Constraints carry dates because an algorithm that is broken today did
// not make yesterday's signatures worthless: a signature produced before
// the algorithm's sunset, with proof of existence (a time stamp) from then,
// still counts (ETSI EN 319 102-1, 5.2.8 and 5.6.2.4). So Check takes the
// time the material is proven to have existed, and the engine decides
// between CRYPTO_CONSTRAINTS_FAILURE and CRYPTO_CONSTRAINTS_FAILURE_NO_POE.
//
// The defaults follow ETSI TS 119 312 and its predecessor ETSI TS 102 176-1:
// SHA-1 is not accepted for signatures produced after 2009, RSA keys below
// 2048 bits not after 2013, MD5 never; SHA-2 and SHA-3, RSA from 2048 bits,
// ECDSA on curves of 256 bits and more, and Ed25519 have no sunset. A JSON
// file (see Parse) changes any of this.
package policy

import (
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"esig/internal/cms"
)

// Policy is a set of algorithm constraints.
type Policy struct {
	// Digests maps a hash name ("SHA-256") to its constraint. A hash that
	// is not listed is never acceptable.
	Digests map[string]Constraint `json:"digests"`
	// Keys maps a key type ("RSA", "ECDSA", "Ed25519") to size rules; the
	// rule with the largest MinBits not above the key's size applies. A
	// key smaller than every rule is never acceptable.
	Keys map[string][]KeyRule `json:"keys"`
}

// Constraint says until when an algorithm is acceptable.
type Constraint struct {
	// Until is the last day (UTC, inclusive) the algorithm is acceptable,
	// "" for no sunset, or "never".
	Until string `json:"until"`
}

// KeyRule is the constraint for keys of at least MinBits bits.
type KeyRule struct {
	MinBits int    `json:"minBits"`
	Until   string `json:"until"`
}

// Default returns the built-in policy described in the package comment.
func Default() *Policy {
	return &Policy{
		Digests: map[string]Constraint{
			"MD5":      {Until: "never"},
			"SHA-1":    {Until: "2009-12-31"},
			"SHA-224":  {},
			"SHA-256":  {},
			"SHA-384":  {},
			"SHA-512":  {},
			"SHA3-256": {},
			"SHA3-384": {},
			"SHA3-512": {},
		},
		Keys: map[string][]KeyRule{
			"RSA":     {{MinBits: 2048}, {MinBits: 1024, Until: "2013-12-31"}},
			"ECDSA":   {{MinBits: 256}},
			"Ed25519": {{MinBits: 0}},
		},
	}
}

// Parse reads a policy from JSON. Entries not given keep their defaults,
// so a file can say just {"digests": {"SHA-1": {"until": "never"}}}.
func Parse(r io.Reader) (*Policy, error) {
	var p Policy
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	d := Default()
	for k, v := range p.Digests {
		if _, err := parseUntil(v.Until); err != nil {
			return nil, fmt.Errorf("policy: digests.%s.until: %w", k, err)
		}
		d.Digests[k] = v
	}
	for k, v := range p.Keys {
		for i, r := range v {
			if _, err := parseUntil(r.Until); err != nil {
				return nil, fmt.Errorf("policy: keys.%s[%d].until: %w", k, i, err)
			}
		}
		d.Keys[k] = v
	}
	return d, nil
}

// sunset is the parsed form of an Until string.
type sunset struct {
	never bool
	end   time.Time // zero: no sunset; else first instant no longer acceptable
}

func parseUntil(s string) (sunset, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return sunset{}, nil
	case "never":
		return sunset{never: true}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return sunset{}, fmt.Errorf("%q is not a date (YYYY-MM-DD), \"never\" or empty", s)
	}
	return sunset{end: t.AddDate(0, 0, 1)}, nil
}

// Violation is the error Check returns when an algorithm is unacceptable
// for material that existed at the time given.
type Violation struct {
	Algorithm string
	// Sunset is the first instant the algorithm was no longer acceptable;
	// zero when it never was.
	Sunset time.Time
}

// Error says which algorithm and since when.
func (v *Violation) Error() string {
	if v.Sunset.IsZero() {
		return fmt.Sprintf("%s is not acceptable under the algorithm policy", v.Algorithm)
	}
	return fmt.Sprintf("%s is acceptable only for material that existed before %s", v.Algorithm, v.Sunset.UTC().Format(time.RFC3339))
}

// CheckDigest checks a digest algorithm for material proven to exist at poe.
func (p *Policy) CheckDigest(h crypto.Hash, poe time.Time) error {
	name := cms.HashName(h)
	c, ok := p.Digests[name]
	if !ok {
		return &Violation{Algorithm: name}
	}
	s, _ := parseUntil(c.Until)
	return s.check(name, poe)
}

// CheckSignature checks a signature algorithm: its hash (none for Ed25519)
// and its key type and size, for material proven to exist at poe.
func (p *Policy) CheckSignature(alg cms.SignatureAlgorithm, keyBits int, poe time.Time) error {
	if alg.Hash != 0 {
		if err := p.CheckDigest(alg.Hash, poe); err != nil {
			return err
		}
	}
	name := fmt.Sprintf("%s-%d", alg.Key, keyBits)
	rules := append([]KeyRule(nil), p.Keys[string(alg.Key)]...)
	sort.Slice(rules, func(i, j int) bool { return rules[i].MinBits > rules[j].MinBits })
	for _, r := range rules {
		if keyBits >= r.MinBits {
			s, _ := parseUntil(r.Until)
			return s.check(name, poe)
		}
	}
	return &Violation{Algorithm: name}
}

func (s sunset) check(name string, poe time.Time) error {
	if s.never {
		return &Violation{Algorithm: name}
	}
	if !s.end.IsZero() && !poe.Before(s.end) {
		return &Violation{Algorithm: name, Sunset: s.end}
	}
	return nil
}
