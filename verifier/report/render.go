package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteJSON writes one report, or an array of reports when several files
// were verified, indented for people and parsable by scripts.
func WriteJSON(w io.Writer, reports []*Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if len(reports) == 1 {
		return enc.Encode(reports[0])
	}
	return enc.Encode(reports)
}

// WriteText writes the reports for a terminal or a printed file.
func WriteText(w io.Writer, reports []*Report) error {
	var b strings.Builder
	for i, r := range reports {
		if i > 0 {
			b.WriteString("\n")
		}
		if r.File != "" {
			fmt.Fprintf(&b, "File: %s\n", r.File)
		}
		fmt.Fprintf(&b, "Result: %s\n", r.Indication)
		fmt.Fprintf(&b, "Validation time: %s\n", r.ValidationTime.UTC().Format(time.RFC3339))
		for _, s := range r.Signatures {
			writeSignature(&b, s, "")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeSignature(b *strings.Builder, s *Signature, indent string) {
	fmt.Fprintf(b, "\n%sSignature %s (%s)\n", indent, s.ID, s.Format)
	in := indent + "  "
	line := func(label, format string, args ...any) {
		fmt.Fprintf(b, "%s%-22s%s\n", in, label+":", fmt.Sprintf(format, args...))
	}
	verdict := string(s.Indication)
	if s.SubIndication != "" {
		verdict += " / " + string(s.SubIndication)
	}
	line("Verdict", "%s", verdict)
	if s.Signer != nil {
		line("Signer", "%s", s.Signer.Subject)
		line("Issuer", "%s", s.Signer.Issuer)
		line("Serial number", "%s", s.Signer.SerialNumber)
	}
	if s.SignatureAlgorithm != "" {
		line("Algorithm", "%s", s.SignatureAlgorithm)
	}
	if s.SigningTime != nil {
		line("Claimed signing time", "%s", s.SigningTime.UTC().Format(time.RFC3339))
	}
	if s.BestSignatureTime != nil {
		line("Best signature time", "%s", s.BestSignatureTime.UTC().Format(time.RFC3339))
	}
	line("Qualification", "%s", s.Qualification)
	for _, d := range s.QualificationDetails {
		line("  because", "%s", d)
	}
	if tp := s.TrustedProfile; tp != nil {
		line("Trusted profile", "%s %s, PESEL %s (sealed by %s)", strings.Join(tp.GivenNames, " "), tp.Surname, tp.PESEL, tp.SealedBy)
	}
	for _, o := range s.SignedObjects {
		name := o.Reference
		if o.URI != "" {
			name += " " + o.URI
		}
		line("Signed object", "%s (%s)", name, o.DigestAlgorithm)
	}
	for i, c := range s.Chain {
		tag := ""
		if c.TrustAnchor {
			tag = " [trust anchor]"
		}
		line(fmt.Sprintf("Chain[%d]", i), "%s%s", c.Subject, tag)
	}
	for _, r := range s.Revocation {
		status := r.Status
		if r.Revoked != nil {
			status += " since " + r.Revoked.UTC().Format(time.RFC3339)
		}
		line("Revocation", "%s: %s by %s", r.Certificate, status, r.Source)
	}
	for _, t := range s.Timestamps {
		v := string(t.Indication)
		if t.SubIndication != "" {
			v += " / " + string(t.SubIndication)
		}
		at := "?"
		if t.ProductionTime != nil {
			at = t.ProductionTime.UTC().Format(time.RFC3339)
		}
		line("Time stamp", "%s at %s by %s: %s", t.Type, at, t.TSA, v)
		for _, e := range t.Errors {
			fmt.Fprintf(b, "%s  error:   %s\n", in, e)
		}
		for _, e := range t.Warnings {
			fmt.Fprintf(b, "%s  warning: %s\n", in, e)
		}
	}
	for _, e := range s.Errors {
		line("Error", "%s", e)
	}
	for _, e := range s.Warnings {
		line("Warning", "%s", e)
	}
	for _, c := range s.CounterSignatures {
		fmt.Fprintf(b, "%sCounter-signature:\n", in)
		writeSignature(b, c, in+"  ")
	}
}
