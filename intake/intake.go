// Package intake is the portal's document intake: a signed document is
// verified under the portal's validation policy and, when its signatures
// hold, answered with a sealed receipt (urzędowe poświadczenie odbioru):
// an XAdES B-T seal over an XML that names the document's digest, the
// verdict, the signer's identity (trusted profile or certificate), the
// time and a receipt number. A rejected document gets the report and no
// receipt. Receipts are stored for later lookup and verify like any other
// signature.
package intake

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"esig/ca/audit"
	"esig/ca/store"
	xsign "esig/signer/xades"
	"esig/verifier/document"
	"esig/verifier/report"
)

// Audit kinds of the intake.
const (
	KindReceiptIssued    = "intake.receipt"
	KindDocumentRejected = "intake.rejected"
)

// ErrRejected reports a document whose signatures do not all hold; the
// Outcome carries the report.
var ErrRejected = errors.New("the document's signatures do not hold; no receipt was issued")

// Config assembles the intake.
type Config struct {
	Store store.Full
	// Verify verifies a document under the portal's trust and policy and
	// returns its report.
	Verify func(ctx context.Context, doc []byte, detached []document.Part) (*report.Report, error)
	// The receipt seal: key, certificate and chain (issuing CA, root).
	Signer crypto.Signer
	Cert   *x509.Certificate
	Chain  []*x509.Certificate
	// Timestamper makes the receipt's signature time stamp (B-T).
	Timestamper xsign.Timestamper
	Now         func() time.Time
}

// Service is the intake.
type Service struct{ cfg Config }

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Verify == nil || cfg.Signer == nil || cfg.Cert == nil || cfg.Timestamper == nil {
		return nil, errors.New("intake: store, verifier, receipt seal and timestamper are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg}, nil
}

// Outcome is what a submission produced.
type Outcome struct {
	Receipt *store.Receipt // nil when rejected
	Report  *report.Report
}

// Submit verifies doc (with its detached parts) and, when every signature
// is TOTAL-PASSED, seals and stores a receipt.
func (s *Service) Submit(ctx context.Context, doc []byte, detached []document.Part, actor string) (*Outcome, error) {
	if len(doc) == 0 {
		return nil, errors.New("document: empty")
	}
	rep, err := s.cfg.Verify(ctx, doc, detached)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(doc)
	digest := hex.EncodeToString(sum[:])
	now := s.cfg.Now().UTC()
	out := &Outcome{Report: rep}
	if rep.Indication != report.TotalPassed {
		details, _ := json.Marshal(map[string]string{"documentSha256": digest, "indication": string(rep.Indication)})
		if err := s.cfg.Store.AppendAudit(ctx, audit.Event{Time: now, Kind: KindDocumentRejected, Actor: actor, Object: digest, Details: details}); err != nil {
			return nil, err
		}
		return out, ErrRejected
	}
	number, err := receiptNumber(now)
	if err != nil {
		return nil, err
	}
	body, err := receiptXML(number, now, sum[:], len(doc), rep)
	if err != nil {
		return nil, err
	}
	sealed, err := xsign.Sign(ctx, body, xsign.Options{
		Signer: s.cfg.Signer, Certificate: s.cfg.Cert, Chain: s.cfg.Chain, Packaging: xsign.Enveloped,
		Level: xsign.LevelT, Timestamper: s.cfg.Timestamper, SigningTime: now,
	})
	if err != nil {
		return nil, fmt.Errorf("intake: sealing the receipt: %w", err)
	}
	r := &store.Receipt{Number: number, CreatedAt: now, DocumentSHA256: digest, Indication: string(rep.Indication), CreatedBy: actor, XML: sealed}
	details, _ := json.Marshal(map[string]string{"documentSha256": digest})
	if err := s.cfg.Store.InsertReceipt(ctx, r, audit.Event{Time: now, Kind: KindReceiptIssued, Actor: actor, Object: number, Details: details}); err != nil {
		return nil, err
	}
	out.Receipt = r
	return out, nil
}

// Receipt returns a stored receipt.
func (s *Service) Receipt(ctx context.Context, number string) (*store.Receipt, error) {
	return s.cfg.Store.Receipt(ctx, number)
}

// receiptNumber is UPO-<date>-<random>: unique without coordination
// between replicas, readable over the phone.
func receiptNumber(now time.Time) (string, error) {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return fmt.Sprintf("UPO-%s-%X", now.Format("20060102"), b), nil
}

// The receipt document.
type receiptDoc struct {
	XMLName    xml.Name        `xml:"urn:esig:receipt:1 Receipt"`
	Number     string          `xml:"Number"`
	ReceivedAt string          `xml:"ReceivedAt"`
	Document   receiptDocument `xml:"Document"`
	Verdict    string          `xml:"Verdict"`
	Signatures []receiptSig    `xml:"Signature"`
}

type receiptDocument struct {
	DigestMethod string `xml:"DigestMethod"`
	DigestValue  string `xml:"DigestValue"`
	Size         int    `xml:"Size"`
}

type receiptSig struct {
	Format         string         `xml:"Format"`
	Indication     string         `xml:"Indication"`
	Qualification  string         `xml:"Qualification"`
	SigningTime    string         `xml:"SigningTime,omitempty"`
	TrustedProfile *receiptTP     `xml:"TrustedProfile,omitempty"`
	Certificate    *receiptSigner `xml:"Certificate,omitempty"`
}

type receiptTP struct {
	GivenNames string `xml:"GivenNames"`
	Surname    string `xml:"Surname"`
	PESEL      string `xml:"PESEL"`
	SealedBy   string `xml:"SealedBy"`
}

type receiptSigner struct {
	Subject string `xml:"Subject"`
	Issuer  string `xml:"Issuer"`
	Serial  string `xml:"SerialNumber"`
	SHA256  string `xml:"SHA256"`
}

func receiptXML(number string, now time.Time, digest []byte, size int, rep *report.Report) ([]byte, error) {
	d := receiptDoc{
		Number: number, ReceivedAt: now.Format(time.RFC3339), Verdict: string(rep.Indication),
		Document: receiptDocument{DigestMethod: "http://www.w3.org/2001/04/xmlenc#sha256", DigestValue: base64.StdEncoding.EncodeToString(digest), Size: size},
	}
	for _, s := range rep.Signatures {
		rs := receiptSig{Format: s.Format, Indication: string(s.Indication), Qualification: s.Qualification}
		if s.SigningTime != nil {
			rs.SigningTime = s.SigningTime.UTC().Format(time.RFC3339)
		}
		if tp := s.TrustedProfile; tp != nil {
			given := ""
			for i, g := range tp.GivenNames {
				if i > 0 {
					given += " "
				}
				given += g
			}
			rs.TrustedProfile = &receiptTP{GivenNames: given, Surname: tp.Surname, PESEL: tp.PESEL, SealedBy: tp.SealedBy}
		} else if s.Signer != nil {
			rs.Certificate = &receiptSigner{Subject: s.Signer.Subject, Issuer: s.Signer.Issuer, Serial: s.Signer.SerialNumber, SHA256: s.Signer.CertificateSHA256}
		}
		d.Signatures = append(d.Signatures, rs)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
