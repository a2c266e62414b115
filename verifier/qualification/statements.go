package qualification

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"slices"
	"strings"
)

// Object identifiers of the qcStatements extension (RFC 3739 clause 3.2.6)
// and of the statements of ETSI EN 319 412-5 clause 4 and EN 319 412-1
// clause 5.1.
var (
	OIDQCStatements = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 3}

	OIDQcCompliance      = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 1} // clause 4.2.1
	OIDQcLimitValue      = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 2} // clause 4.3.2
	OIDQcRetentionPeriod = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 3} // clause 4.3.3
	OIDQcSSCD            = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 4} // clause 4.2.2
	OIDQcPDS             = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 5} // clause 4.3.4
	OIDQcType            = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6} // clause 4.2.3
	OIDQcTypeESign       = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 1}
	OIDQcTypeESeal       = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 2}
	OIDQcTypeWeb         = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 6, 3}
	OIDQcCClegislation   = asn1.ObjectIdentifier{0, 4, 0, 1862, 1, 7}

	// RFC 3739 qcStatement-1 and -2 carry SemanticsInformation, whose
	// identifier EN 319 412-1 clause 5.1 defines for natural and legal
	// persons.
	OIDPKIXQCSyntaxV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 11, 1}
	OIDPKIXQCSyntaxV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 11, 2}

	OIDSemanticsNatural      = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 1}
	OIDSemanticsLegal        = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 2}
	OIDSemanticsEIDASNatural = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 3}
	OIDSemanticsEIDASLegal   = asn1.ObjectIdentifier{0, 4, 0, 194121, 1, 4}
)

// Type is what a qualified certificate is issued for (EN 319 412-5 clause
// 4.2.3, QcType): electronic signatures, electronic seals or website
// authentication.
type Type string

// Certificate types; TypeUnknown when nothing says or the sources disagree.
const (
	TypeUnknown Type = ""
	TypeESig    Type = "eSig"
	TypeESeal   Type = "eSeal"
	TypeWSA     Type = "WSA"
)

// PDSLocation is one PKI disclosure statement (EN 319 412-5 clause 4.3.4).
type PDSLocation struct {
	URL      string
	Language string
}

// LimitValue is QcLimitValue (EN 319 412-5 clause 4.3.2): the value of
// transactions the certificate may be used for, Amount × 10^Exponent in
// Currency (an ISO 4217 alphabetic code, or the numeric one as text).
type LimitValue struct {
	Currency string
	Amount   int64
	Exponent int
}

// Statements is what a certificate's qcStatements extension says.
type Statements struct {
	// Present: the extension is there.
	Present bool
	// Compliance: QcCompliance, the issuer's claim that the certificate
	// is an EU qualified certificate (clause 4.2.1).
	Compliance bool
	// SSCD: QcSSCD, the claim that the private key is in a QSCD (clause
	// 4.2.2).
	SSCD bool
	// Types are the QcType values understood (clause 4.2.3);
	// OtherTypes the ones that are not.
	Types      []Type
	OtherTypes []asn1.ObjectIdentifier
	// RetentionYears is QcRetentionPeriod (clause 4.3.3), 0 if absent.
	RetentionYears int
	// PDS is QcPDS (clause 4.3.4).
	PDS []PDSLocation
	// Legislation is QcCClegislation: the countries under whose
	// (non-EU) legislation the certificate is qualified.
	Legislation []string
	// Limit is QcLimitValue, nil if absent.
	Limit *LimitValue
	// Semantics are the semantics identifiers of RFC 3739
	// SemanticsInformation (EN 319 412-1 clause 5.1), e.g.
	// OIDSemanticsNatural.
	Semantics []asn1.ObjectIdentifier
	// Other are statements this package does not interpret (PSD2 roles,
	// national statements).
	Other []asn1.ObjectIdentifier
}

type qcStatement struct {
	ID   asn1.ObjectIdentifier
	Info asn1.RawValue `asn1:"optional"`
}

type pdsLocation struct {
	URL      string
	Language string
}

type semanticsInformation struct {
	ID    asn1.ObjectIdentifier `asn1:"optional"`
	Names asn1.RawValue         `asn1:"optional"`
}

type monetaryValue struct {
	Currency asn1.RawValue
	Amount   int64
	Exponent int
}

// ParseStatements reads the qcStatements extension of c. A certificate
// without the extension yields a zero Statements and no error. A malformed
// extension or statement is an error naming the statement at fault; the
// statements read before it are returned with it.
func ParseStatements(c *x509.Certificate) (Statements, error) {
	var s Statements
	var raw []byte
	for _, e := range c.Extensions {
		if e.Id.Equal(OIDQCStatements) {
			raw = e.Value
			s.Present = true
			break
		}
	}
	if !s.Present {
		return s, nil
	}
	var list []qcStatement
	if rest, err := asn1.Unmarshal(raw, &list); err != nil {
		return s, fmt.Errorf("qcStatements: %w", err)
	} else if len(rest) > 0 {
		return s, fmt.Errorf("qcStatements: %d trailing bytes", len(rest))
	}
	for i, st := range list {
		if err := s.add(st); err != nil {
			return s, fmt.Errorf("qcStatements[%d] (%s): %w", i+1, st.ID, err)
		}
	}
	return s, nil
}

// unmarshalInfo decodes a statement's statementInfo into v, refusing a
// missing value or trailing bytes.
func unmarshalInfo(st qcStatement, v any) error {
	if len(st.Info.FullBytes) == 0 {
		return fmt.Errorf("statementInfo is missing")
	}
	rest, err := asn1.Unmarshal(st.Info.FullBytes, v)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%d trailing bytes after statementInfo", len(rest))
	}
	return nil
}

func (s *Statements) add(st qcStatement) error {
	switch {
	case st.ID.Equal(OIDQcCompliance):
		s.Compliance = true
	case st.ID.Equal(OIDQcSSCD):
		s.SSCD = true
	case st.ID.Equal(OIDQcType):
		var oids []asn1.ObjectIdentifier
		if err := unmarshalInfo(st, &oids); err != nil {
			return err
		}
		for _, o := range oids {
			switch {
			case o.Equal(OIDQcTypeESign):
				s.Types = append(s.Types, TypeESig)
			case o.Equal(OIDQcTypeESeal):
				s.Types = append(s.Types, TypeESeal)
			case o.Equal(OIDQcTypeWeb):
				s.Types = append(s.Types, TypeWSA)
			default:
				s.OtherTypes = append(s.OtherTypes, o)
			}
		}
	case st.ID.Equal(OIDQcRetentionPeriod):
		var years int
		if err := unmarshalInfo(st, &years); err != nil {
			return err
		}
		if years < 0 {
			return fmt.Errorf("negative retention period %d", years)
		}
		s.RetentionYears = years
	case st.ID.Equal(OIDQcPDS):
		var locs []pdsLocation
		if err := unmarshalInfo(st, &locs); err != nil {
			return err
		}
		for _, l := range locs {
			s.PDS = append(s.PDS, PDSLocation(l))
		}
	case st.ID.Equal(OIDQcCClegislation):
		var countries []string
		if err := unmarshalInfo(st, &countries); err != nil {
			return err
		}
		s.Legislation = append(s.Legislation, countries...)
	case st.ID.Equal(OIDQcLimitValue):
		var mv monetaryValue
		if err := unmarshalInfo(st, &mv); err != nil {
			return err
		}
		lv := &LimitValue{Amount: mv.Amount, Exponent: mv.Exponent}
		switch mv.Currency.Tag {
		case asn1.TagPrintableString:
			lv.Currency = string(mv.Currency.Bytes)
		case asn1.TagInteger:
			var n int
			if _, err := asn1.Unmarshal(mv.Currency.FullBytes, &n); err != nil {
				return fmt.Errorf("currency: %w", err)
			}
			lv.Currency = fmt.Sprint(n)
		default:
			return fmt.Errorf("currency has ASN.1 tag %d, want PrintableString or INTEGER", mv.Currency.Tag)
		}
		s.Limit = lv
	case st.ID.Equal(OIDPKIXQCSyntaxV1), st.ID.Equal(OIDPKIXQCSyntaxV2):
		if len(st.Info.FullBytes) == 0 {
			return nil // SemanticsInformation is optional
		}
		var si semanticsInformation
		if err := unmarshalInfo(st, &si); err != nil {
			return err
		}
		if si.ID != nil {
			s.Semantics = append(s.Semantics, si.ID)
		}
	default:
		s.Other = append(s.Other, st.ID)
	}
	return nil
}

// Type returns the one type the QcType statement names, TypeUnknown when it
// names none or several (EN 319 412-5 clause 4.2.3 allows one per
// certificate for EU qualified certificates).
func (s Statements) Type() Type {
	if len(s.Types) == 1 {
		return s.Types[0]
	}
	return TypeUnknown
}

// Summary describes the statements for a report ("QcCompliance, QcSSCD,
// QcType eSig, QcPDS en").
func (s Statements) Summary() string {
	if !s.Present {
		return "no qcStatements"
	}
	var parts []string
	if s.Compliance {
		parts = append(parts, "QcCompliance")
	}
	if s.SSCD {
		parts = append(parts, "QcSSCD")
	}
	for _, t := range s.Types {
		parts = append(parts, "QcType "+string(t))
	}
	for _, o := range s.OtherTypes {
		parts = append(parts, "QcType "+o.String())
	}
	if s.RetentionYears > 0 {
		parts = append(parts, fmt.Sprintf("QcRetentionPeriod %d years", s.RetentionYears))
	}
	for _, p := range s.PDS {
		parts = append(parts, "QcPDS "+p.Language)
	}
	if len(s.Legislation) > 0 {
		parts = append(parts, "QcCClegislation "+strings.Join(s.Legislation, ","))
	}
	if s.Limit != nil {
		parts = append(parts, fmt.Sprintf("QcLimitValue %d×10^%d %s", s.Limit.Amount, s.Limit.Exponent, s.Limit.Currency))
	}
	for _, o := range s.Semantics {
		parts = append(parts, "semantics "+semanticsName(o))
	}
	if len(parts) == 0 {
		return "qcStatements with no statement this package interprets"
	}
	return strings.Join(parts, ", ")
}

func semanticsName(o asn1.ObjectIdentifier) string {
	switch {
	case o.Equal(OIDSemanticsNatural):
		return "natural person"
	case o.Equal(OIDSemanticsLegal):
		return "legal person"
	case o.Equal(OIDSemanticsEIDASNatural):
		return "eIDAS natural person"
	case o.Equal(OIDSemanticsEIDASLegal):
		return "eIDAS legal person"
	}
	return o.String()
}

// Policy OIDs of qualified certificates: EN 319 411-2 clause 5.3 (QCP-n,
// QCP-l, their -qscd forms, QCP-w) and, for certificates issued under
// Directive 1999/93/EC, TS 101 456 (QCP public, QCP public + SSCD).
var (
	OIDQCPn          = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 0}
	OIDQCPl          = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 1}
	OIDQCPnQSCD      = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 2}
	OIDQCPlQSCD      = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 3}
	OIDQCPw          = asn1.ObjectIdentifier{0, 4, 0, 194112, 1, 4}
	OIDQCPPublicSSCD = asn1.ObjectIdentifier{0, 4, 0, 1456, 1, 1}
	OIDQCPPublic     = asn1.ObjectIdentifier{0, 4, 0, 1456, 1, 2}
)

// Policies is what a certificate's policies say about its qualification.
type Policies struct {
	// Names are the qualified policies found ("QCP-n-qscd").
	Names []string
	// Qualified: one of the qualified policies is asserted.
	Qualified bool
	// QSCD: a policy that requires a QSCD (QCP-n-qscd, QCP-l-qscd).
	QSCD bool
	// SSCD: the pre-eIDAS policy that requires an SSCD (QCP+).
	SSCD bool
	// PreEIDAS: a TS 101 456 policy.
	PreEIDAS bool
	// Type implied by the policy (QCP-n: eSig, QCP-l: eSeal, QCP-w: WSA).
	Type Type
}

// PoliciesOf reads the qualified-certificate policies of c.
func PoliciesOf(c *x509.Certificate) Policies {
	var p Policies
	conflict := false
	has := func(o asn1.ObjectIdentifier) bool {
		if slices.ContainsFunc(c.PolicyIdentifiers, o.Equal) {
			return true
		}
		for _, x := range c.Policies {
			if x.String() == o.String() {
				return true
			}
		}
		return false
	}
	for _, x := range []struct {
		oid       asn1.ObjectIdentifier
		name      string
		qscd, old bool
		typ       Type
	}{
		{OIDQCPn, "QCP-n", false, false, TypeESig},
		{OIDQCPl, "QCP-l", false, false, TypeESeal},
		{OIDQCPnQSCD, "QCP-n-qscd", true, false, TypeESig},
		{OIDQCPlQSCD, "QCP-l-qscd", true, false, TypeESeal},
		{OIDQCPw, "QCP-w", false, false, TypeWSA},
		{OIDQCPPublicSSCD, "QCP+ (TS 101 456)", true, true, TypeESig},
		{OIDQCPPublic, "QCP (TS 101 456)", false, true, TypeESig},
	} {
		if !has(x.oid) {
			continue
		}
		p.Names = append(p.Names, x.name)
		p.Qualified = true
		if x.old {
			p.PreEIDAS = true
			p.SSCD = p.SSCD || x.qscd
		} else {
			p.QSCD = p.QSCD || x.qscd
		}
		switch {
		case conflict:
		case p.Type == TypeUnknown:
			p.Type = x.typ
		case p.Type != x.typ:
			p.Type, conflict = TypeUnknown, true
		}
	}
	return p
}
