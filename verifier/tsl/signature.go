package tsl

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"
)

// Reasons a list's signature is refused. Each is wrapped with detail; test
// with errors.Is.
var (
	// ErrUnsigned: the list has no enveloped ds:Signature (TS 119 612
	// clause 5.7.1 requires one).
	ErrUnsigned = errors.New("the trusted list is not signed")
	// ErrNotCovered: the signature is valid but does not cover the whole
	// list, so what it proves is not what the model was read from.
	ErrNotCovered = errors.New("the signature does not cover the whole trusted list")
	// ErrNoPinnedKey: no pinned certificate's key verifies the signature.
	ErrNoPinnedKey = errors.New("the signature does not verify under any pinned operator certificate")
	// ErrNoPins: nothing to check the signature against.
	ErrNoPins = errors.New("no operator certificate to check the signature against")
	// ErrKeyInfoMismatch: KeyInfo names certificates, none of them with the
	// pinned key that verified the signature.
	ErrKeyInfoMismatch = errors.New("the certificate in KeyInfo is not a pinned operator certificate")
)

// SignatureResult is the judgement of a list's signature against pinned
// operator certificates.
type SignatureResult struct {
	// Signer is the pinned certificate whose key verified the
	// SignatureValue; nil when none did.
	Signer *x509.Certificate
	// Err is nil exactly when the list may be used: it is signed once, the
	// signature covers every node of the list outside itself, every
	// reference digest matches, the value verifies under a pinned key and
	// KeyInfo (if it names certificates) names that key.
	Err error
	// Warnings are facts an auditor should see that do not refuse the list:
	// the operator certificate's validity at the issue date and now.
	Warnings []string
}

// CheckSignature checks the list's enveloped XML signature (TS 119 612
// clause 5.7) against pinned operator certificates: for the LOTL, those
// published in the Official Journal (or, lacking them, the ones the LOTL
// names for itself); for a national list, the ones the LOTL's pointer names.
// Trust comes only from pinned: a certificate in KeyInfo is a claim checked
// against them, never a reason to trust.
//
// The validity period of the pinned certificate is reported, not enforced:
// the lists of 2019 in the shared corpus are signed by certificates that
// have since expired, and pinning, not the certificate's dates, is what
// makes the key trusted. now is the time the report speaks of.
func (l *List) CheckSignature(pinned []*x509.Certificate, now time.Time) SignatureResult {
	var r SignatureResult
	if l.sigEl == nil || l.sig == nil {
		r.Err = ErrUnsigned
		return r
	}
	if l.sigCount > 1 {
		r.Err = fmt.Errorf("%w: %d ds:Signature elements under TrustServiceStatusList, TS 119 612 allows one", ErrNotCovered, l.sigCount)
		return r
	}
	if err := l.sig.Problem(); err != nil {
		r.Err = fmt.Errorf("trusted list signature: %w", err)
		return r
	}
	if err := l.covered(); err != nil {
		r.Err = err
		return r
	}
	if len(pinned) == 0 {
		r.Err = ErrNoPins
		return r
	}
	var lastErr error
	for _, c := range pinned {
		if err := l.sig.VerifyValue(c.PublicKey); err != nil {
			lastErr = err
			continue
		}
		r.Signer = c
		break
	}
	if r.Signer == nil {
		r.Err = fmt.Errorf("%w (%d certificate(s) tried; last: %v)", ErrNoPinnedKey, len(pinned), lastErr)
		return r
	}
	if len(l.sig.Certificates) > 0 {
		named := false
		for _, c := range l.sig.Certificates {
			if bytes.Equal(c.RawSubjectPublicKeyInfo, r.Signer.RawSubjectPublicKeyInfo) {
				named = true
				break
			}
		}
		if !named {
			r.Err = fmt.Errorf("%w: KeyInfo names %q", ErrKeyInfoMismatch, l.sig.Certificates[0].Subject.String())
			return r
		}
	} else {
		r.Warnings = append(r.Warnings, "the signature's KeyInfo carries no certificate (TS 119 612 clause 5.7.1 expects the operator's)")
	}
	subj := r.Signer.Subject.String()
	if !l.IssueDate.IsZero() && (l.IssueDate.Before(r.Signer.NotBefore) || l.IssueDate.After(r.Signer.NotAfter)) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("operator certificate %q (valid %s to %s) was not valid at the list's issue date %s",
			subj, day(r.Signer.NotBefore), day(r.Signer.NotAfter), day(l.IssueDate)))
	}
	if now.After(r.Signer.NotAfter) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("operator certificate %q expired on %s", subj, day(r.Signer.NotAfter)))
	}
	return r
}

func day(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// covered checks that one Reference of the signature covers every element
// and text node of the list outside the signature itself (comments aside:
// canonicalization without comments does not sign them, and nothing is read
// from them). This is what allows the model, read from the same tree, to be
// treated as signed.
func (l *List) covered() error {
	root := l.doc.Root()
	docNode := &l.doc.Tree().Element
	why := "no Reference has the whole document or the root element as its target"
	for _, ref := range l.sig.References {
		c := ref.Content
		if c == nil || !c.IsNodeSet() || (c.Top() != root && c.Top() != docNode) {
			continue
		}
		missing := uncovered(root, l.sigEl, c.Contains)
		if missing == "" {
			return nil
		}
		why = fmt.Sprintf("Reference %d leaves %s out", ref.Index, missing)
	}
	return fmt.Errorf("%w: %s", ErrNotCovered, why)
}

// uncovered returns the path of the first element or text node under e
// (skipping the subtree skip) for which in is false, "" if none.
func uncovered(e, skip *etree.Element, in func(etree.Token) bool) string {
	if e == skip {
		return ""
	}
	if !in(e) {
		return e.GetPath()
	}
	for _, t := range e.Child {
		switch n := t.(type) {
		case *etree.Element:
			if p := uncovered(n, skip, in); p != "" {
				return p
			}
		case *etree.CharData:
			if !in(n) {
				return e.GetPath() + "/text()"
			}
		}
	}
	return ""
}
