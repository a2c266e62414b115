package trust

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
	"time"
)

// Purpose is what the target certificate of a chain is used for.
type Purpose int

// Purposes the engine validates chains for.
const (
	// PurposeSignature: an AdES signature (digitalSignature or
	// nonRepudiation key usage).
	PurposeSignature Purpose = iota
	// PurposeTimestamping: an RFC 3161 TSA, whose certificate must carry
	// exactly one extended key usage, id-kp-timeStamping, marked critical
	// (RFC 3161, 2.3).
	PurposeTimestamping
	// PurposeOCSPSigning: a delegated OCSP responder (RFC 6960, 4.2.2.2).
	PurposeOCSPSigning
	// PurposeCRLSigning: the issuer of a CRL (RFC 5280, 4.2.1.3, cRLSign).
	PurposeCRLSigning
)

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// ConstraintError is a violated path constraint; Cert is the certificate
// at fault.
type ConstraintError struct {
	Cert   *x509.Certificate
	Reason string
}

// Error names the certificate at fault.
func (e *ConstraintError) Error() string {
	return fmt.Sprintf("certificate %q: %s", e.Cert.Subject.String(), e.Reason)
}

// Constraints checks the time-independent rules of RFC 5280 (6.1.3, 6.1.4)
// on a chain and the target's fitness for purpose. The anchor's own
// extensions are honoured as constraints, as RFC 5937 suggests.
func Constraints(chain Chain, purpose Purpose) error {
	n := len(chain)
	for i, c := range chain {
		if len(c.UnhandledCriticalExtensions) > 0 {
			return &ConstraintError{c, fmt.Sprintf("unknown critical extension %v", c.UnhandledCriticalExtensions[0])}
		}
		if i == 0 {
			continue
		}
		// c issues chain[i-1]: it must be a CA (6.1.4 (k)), allowed to sign
		// certificates (6.1.4 (n)), and its path length must hold (6.1.4 (m)).
		// An X.509 v1 self-signed anchor predates extensions and is accepted.
		v1Anchor := i == n-1 && c.Version == 1
		if !v1Anchor && (!c.BasicConstraintsValid || !c.IsCA) {
			return &ConstraintError{c, "issues certificates but is not a CA (basicConstraints)"}
		}
		if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
			return &ConstraintError{c, "issues certificates but its key usage lacks keyCertSign"}
		}
		if c.BasicConstraintsValid && (c.MaxPathLen > 0 || c.MaxPathLenZero) {
			// Intermediate CAs below c, not counting self-issued ones.
			below := 0
			for j := 1; j < i; j++ {
				if !selfIssued(chain[j]) {
					below++
				}
			}
			if below > c.MaxPathLen {
				return &ConstraintError{c, fmt.Sprintf("path length constraint %d exceeded by %d intermediate CAs", c.MaxPathLen, below)}
			}
		}
		if err := nameConstraints(c, chain[:i]); err != nil {
			return err
		}
	}
	return purposeOK(chain[0], purpose)
}

func selfIssued(c *x509.Certificate) bool {
	return string(c.RawIssuer) == string(c.RawSubject)
}

func purposeOK(c *x509.Certificate, purpose Purpose) error {
	switch purpose {
	case PurposeSignature:
		if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
			return &ConstraintError{c, "key usage allows neither digitalSignature nor nonRepudiation"}
		}
	case PurposeTimestamping:
		if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) > 0 {
			return &ConstraintError{c, "extended key usage is not exactly id-kp-timeStamping (RFC 3161, 2.3)"}
		}
		if !extCritical(c, oidExtKeyUsage) {
			return &ConstraintError{c, "extended key usage id-kp-timeStamping is not marked critical (RFC 3161, 2.3)"}
		}
		if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
			return &ConstraintError{c, "key usage allows neither digitalSignature nor nonRepudiation"}
		}
	case PurposeOCSPSigning:
		ok := false
		for _, u := range c.ExtKeyUsage {
			ok = ok || u == x509.ExtKeyUsageOCSPSigning
		}
		if !ok {
			return &ConstraintError{c, "delegated OCSP responder lacks id-kp-OCSPSigning (RFC 6960, 4.2.2.2)"}
		}
	case PurposeCRLSigning:
		if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCRLSign == 0 {
			return &ConstraintError{c, "signs CRLs but its key usage lacks cRLSign"}
		}
	}
	return nil
}

func extCritical(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return e.Critical
		}
	}
	return false
}

// nameConstraints applies a CA's DNS and e-mail name constraints (RFC 5280,
// 4.2.1.10) to the certificates below it. crypto/x509 parses these forms;
// directoryName constraints make it fail parsing when critical, so a chain
// with them never gets here unchecked.
func nameConstraints(ca *x509.Certificate, below []*x509.Certificate) error {
	if len(ca.PermittedDNSDomains)+len(ca.ExcludedDNSDomains)+len(ca.PermittedEmailAddresses)+len(ca.ExcludedEmailAddresses) == 0 {
		return nil
	}
	for _, c := range below {
		for _, d := range c.DNSNames {
			if !allowed(d, ca.PermittedDNSDomains, ca.ExcludedDNSDomains, domainMatch) {
				return &ConstraintError{c, fmt.Sprintf("DNS name %q violates name constraints of %q", d, ca.Subject.String())}
			}
		}
		for _, e := range c.EmailAddresses {
			if !allowed(e, ca.PermittedEmailAddresses, ca.ExcludedEmailAddresses, emailMatch) {
				return &ConstraintError{c, fmt.Sprintf("e-mail %q violates name constraints of %q", e, ca.Subject.String())}
			}
		}
	}
	return nil
}

func allowed(name string, permitted, excluded []string, match func(string, string) bool) bool {
	for _, x := range excluded {
		if match(name, x) {
			return false
		}
	}
	if len(permitted) == 0 {
		return true
	}
	for _, p := range permitted {
		if match(name, p) {
			return true
		}
	}
	return false
}

func domainMatch(name, constraint string) bool {
	name, constraint = strings.ToLower(name), strings.ToLower(constraint)
	if strings.HasPrefix(constraint, ".") {
		return strings.HasSuffix(name, constraint)
	}
	return name == constraint || strings.HasSuffix(name, "."+constraint)
}

func emailMatch(addr, constraint string) bool {
	addr, constraint = strings.ToLower(addr), strings.ToLower(constraint)
	if strings.Contains(constraint, "@") {
		return addr == constraint
	}
	at := strings.LastIndex(addr, "@")
	if at < 0 {
		return false
	}
	return domainMatch(addr[at+1:], constraint)
}

// Validity reports the first certificate in the chain (anchor excluded:
// an anchor's validity is the relying party's business, RFC 5280 6.1.1 (d))
// whose validity period does not contain t.
func Validity(chain Chain, t time.Time) (cert *x509.Certificate, tooEarly bool) {
	for _, c := range chain[:len(chain)-1] {
		if t.Before(c.NotBefore) {
			return c, true
		}
		if t.After(c.NotAfter) {
			return c, false
		}
	}
	if len(chain) == 1 {
		// The target is itself the anchor: its validity still matters.
		c := chain[0]
		if t.Before(c.NotBefore) {
			return c, true
		}
		if t.After(c.NotAfter) {
			return c, false
		}
	}
	return nil, false
}
