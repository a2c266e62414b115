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
	verdict := string(s.Indication)
	if s.SubIndication != "" {
		verdict += " / " + string(s.SubIndication)
	}
	in := indent + "  "
	fmt.Fprintf(b, "%sVerdict:             %s\n", in, verdict)
	if s.Signer != nil {
		fmt.Fprintf(b, "%sSigner:              %s\n", in, s.Signer.Subject)
		fmt.Fprintf(b, "%sIssuer:              %s\n", in, s.Signer.Issuer)
		fmt.Fprintf(b, "%sSerial number:       %s\n", in, s.Signer.SerialNumber)
	}
	if s.SignatureAlgorithm != "" {
		fmt.Fprintf(b, "%sAlgorithm:           %s\n", in, s.SignatureAlgorithm)
	}
	if s.SigningTime != nil {
		fmt.Fprintf(b, "%sClaimed signing time: %s\n", in, s.SigningTime.UTC().Format(time.RFC3339))
	}
	if s.BestSignatureTime != nil {
		fmt.Fprintf(b, "%sBest signature time: %s\n", in, s.BestSignatureTime.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(b, "%sQualification:       %s\n", in, s.Qualification)
	for _, o := range s.SignedObjects {
		fmt.Fprintf(b, "%sSigned object:       %s %s (%s)\n", in, o.Reference, o.URI, o.DigestAlgorithm)
	}
	for i, c := range s.Chain {
		tag := ""
		if c.TrustAnchor {
			tag = " [trust anchor]"
		}
		fmt.Fprintf(b, "%sChain[%d]:            %s%s\n", in, i, c.Subject, tag)
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
		fmt.Fprintf(b, "%sTime stamp:          %s at %s by %s: %s\n", in, t.Type, at, t.TSA, v)
		for _, e := range t.Errors {
			fmt.Fprintf(b, "%s  error:   %s\n", in, e)
		}
		for _, e := range t.Warnings {
			fmt.Fprintf(b, "%s  warning: %s\n", in, e)
		}
	}
	for _, e := range s.Errors {
		fmt.Fprintf(b, "%sError:   %s\n", in, e)
	}
	for _, e := range s.Warnings {
		fmt.Fprintf(b, "%sWarning: %s\n", in, e)
	}
	for _, c := range s.CounterSignatures {
		fmt.Fprintf(b, "%sCounter-signature:\n", in)
		writeSignature(b, c, in+"  ")
	}
}
