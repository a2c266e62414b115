package pades

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"esig/internal/plid"
	"esig/verifier/policy"
	"esig/verifier/report"
	"esig/verifier/trustedprofile"
)

// Trusted-profile PAdES seals, as the gov.pl signing service makes them.
//
// What the service writes was established from real documents it sealed
// in 2021, 2022 and 2024 (published by their owner as examples; not copied
// here):
//
//   - the signature is SubFilter ETSI.CAdES.detached, level B-B: a CMS
//     (BER, indefinite lengths) with only content-type, message-digest and
//     signing-certificate-v2 signed attributes, no time stamp, no DSS;
//   - the CMS names nobody but the sealer: its certificate is the
//     minister's qualified seal, "Minister do spraw informatyzacji -
//     pieczęć podpisu zaufanego", O=Ministerstwo Cyfryzacji,
//     organizationIdentifier VATPL-5252955037 (2024); the seals of 2021 and
//     2022 were O=Kancelaria Prezesa Rady Ministrow, VATPL-5261645000, with
//     the common name written without Polish letters;
//   - the person is named only in the signature dictionary: Name holds the
//     first name(s) and surname in capitals, and Reason the statement
//     "Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w
//     imieniu: IMIĘ NAZWISKO, PESEL: 12345678901, PZ ID: login" (UTF-16),
//     where PZ ID is the trusted-profile (ePUAP) account;
//   - M is the sealing time in local time.
//
// The signature dictionary lies inside the ByteRange (all of it but the
// Contents string), so Name and Reason are signed data, though not CMS
// signed attributes. They are read from the revision the seal signed
// (Locate reads every entry there), never from a later update, which could
// rewrite the dictionary without touching the signed bytes. The identity
// counts only when the seal is TOTAL-PASSED and its certificate is the
// policy's sealer (trustedprofile.IsSealer).
//
// The RSA signatures of these seals encode their DigestInfo without the
// NULL parameters; internal/cms accepts that form (RFC 8017 B.1).

// reasonRE reads the person from the Reason statement.
var reasonRE = regexp.MustCompile(`(?i)w\s+imieniu:\s*(.+?)\s*,\s*PESEL:\s*([0-9]{11})\s*(?:,\s*PZ\s*ID:\s*(\S+?))?\s*$`)

// claim is what a seal's signature dictionary says about the person.
type claim struct {
	givenNames []string
	surname    string
	pesel      string
	accountID  string
}

// readClaim parses the Reason (and checks the Name) of a signature; nil,
// nil when the Reason makes no trusted-profile statement.
func readClaim(s *Signature) (*claim, error) {
	m := reasonRE.FindStringSubmatch(s.Reason)
	if m == nil {
		if strings.Contains(strings.ToLower(s.Reason), "w imieniu") {
			return nil, fmt.Errorf("%w: the Reason names a person but not in the form \"w imieniu: NAME, PESEL: NUMBER\"", trustedprofile.ErrMalformed)
		}
		return nil, nil
	}
	names := strings.Fields(m[1])
	if len(names) < 2 {
		return nil, fmt.Errorf("%w: the Reason gives %q, not first name(s) and a surname", trustedprofile.ErrMalformed, m[1])
	}
	if s.Name != "" && !strings.EqualFold(strings.Join(strings.Fields(s.Name), " "), strings.Join(names, " ")) {
		return nil, fmt.Errorf("%w: the signature's Name %q and its Reason (%q) name different people", trustedprofile.ErrMalformed, s.Name, m[1])
	}
	if _, err := plid.PESEL(m[2]); err != nil {
		return nil, fmt.Errorf("%w: %v", trustedprofile.ErrMalformed, err)
	}
	// The statement does not say where the first names end; a surname of
	// several words is rare in the PESEL register and is read here as
	// first names plus the last word.
	return &claim{givenNames: names[:len(names)-1], surname: names[len(names)-1], pesel: m[2], accountID: m[3]}, nil
}

// TrustedProfile decides whether a verified PAdES signature is a
// trusted-profile seal and, if so, whom it was made for. The outcome is
// that of trustedprofile.Evaluate for XAdES: an identity only for a valid
// seal by the configured sealer, warnings for a statement that is not
// trusted.
func TrustedProfile(v *Verified, sealer policy.SealerIdentity) trustedprofile.Outcome {
	var out trustedprofile.Outcome
	if v == nil || v.Signature == nil || v.Report == nil {
		return out
	}
	c, err := readClaim(v.Signature)
	switch {
	case err != nil:
		out.Warnings = append(out.Warnings, err.Error()+"; not a trusted-profile signature")
		return out
	case c == nil:
		return out
	case v.Report.Indication != report.TotalPassed:
		// Checked first: a seal that fails may have no identified
		// certificate to compare with the sealer's.
		out.Warnings = append(out.Warnings, "the signature's Reason names a person as a trusted-profile seal does, but the seal is not valid, so the identity is not confirmed")
		return out
	case !trustedprofile.IsSealer(v.Certificate, sealer):
		out.Warnings = append(out.Warnings, "the signature's Reason names a person as a trusted-profile seal does, but it is not sealed by the trusted-profile sealer; it is not a trusted-profile signature")
		return out
	}
	tp := &report.TrustedProfile{GivenNames: c.givenNames, Surname: c.surname, PESEL: c.pesel, AccountID: c.accountID,
		SealedBy: v.Certificate.Subject.String()}
	if v.Report.SigningTime != nil {
		tp.SigningTime = v.Report.SigningTime.UTC().Format(time.RFC3339)
	}
	out.Identity = tp
	return out
}
