package ra

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"time"

	"esig/ca/store"
)

// DocumentNamespace is the XML namespace of the documents an applicant
// signs: the application for a certificate and the request to deactivate
// an account.
const DocumentNamespace = "urn:esig:ra:1"

// Purposes of signed documents. A signature on one can never be used as
// the other.
const (
	PurposeApplication  = "certificate-application"
	PurposeDeactivation = "account-deactivation"
)

// signedDocument is the shape of both documents.
type signedDocument struct {
	XMLName       xml.Name    `xml:"urn:esig:ra:1 Document"`
	ID            string      `xml:"Id,attr"`
	Purpose       string      `xml:"Purpose"`
	ApplicationID string      `xml:"ApplicationId,omitempty"`
	SubscriberID  string      `xml:"SubscriberId"`
	Profile       string      `xml:"Profile,omitempty"`
	Person        *personData `xml:"Person,omitempty"`
	Organization  *orgData    `xml:"Organization,omitempty"`
	Statement     string      `xml:"Statement"`
	IssuedAt      string      `xml:"IssuedAt"`
}

type personData struct {
	GivenName  string `xml:"GivenName"`
	Surname    string `xml:"Surname"`
	PESEL      string `xml:"PESEL,omitempty"`
	IDDocument string `xml:"IdentityDocument,omitempty"`
	Email      string `xml:"Email,omitempty"`
}

type orgData struct {
	Name  string `xml:"Name"`
	NIP   string `xml:"NIP,omitempty"`
	REGON string `xml:"REGON,omitempty"`
}

func render(d signedDocument) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(d); err != nil {
		panic("ra: encoding a document: " + err.Error()) // only plain strings go in
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// ApplicationDocument is the XML an applicant signs (with a trusted
// profile or a qualified signature) to prove they are who the application
// names. It is derived from the stored application, so it is the same on
// every request.
func ApplicationDocument(a *store.Application) []byte {
	ap := ApplicantOf(a)
	d := signedDocument{
		ID: "application", Purpose: PurposeApplication, ApplicationID: a.ID, SubscriberID: a.SubscriberID, Profile: a.Profile,
		Statement: "Wnoszę o wydanie certyfikatu na podstawie niniejszego wniosku i potwierdzam, że dane w nim zawarte są zgodne z prawdą.",
		IssuedAt:  a.CreatedAt.UTC().Format(time.RFC3339),
	}
	if ap.GivenName != "" || ap.Surname != "" {
		d.Person = &personData{GivenName: ap.GivenName, Surname: ap.Surname, PESEL: ap.PESEL, IDDocument: ap.IDDocument, Email: ap.Email}
	}
	if ap.OrganizationName != "" {
		d.Organization = &orgData{Name: ap.OrganizationName, NIP: ap.NIP, REGON: ap.REGON}
	}
	return render(d)
}

// DeactivationDocument is the XML a subscriber signs to ask for the
// deactivation of their account (the customs procedure for deleting one).
func DeactivationDocument(sub *store.Subscriber, now time.Time) []byte {
	return render(signedDocument{
		ID: "deactivation", Purpose: PurposeDeactivation, SubscriberID: sub.ID,
		Statement: "Wnoszę o dezaktywację konta i unieważnienie wszystkich moich certyfikatów.",
		IssuedAt:  now.UTC().Format(time.RFC3339),
	})
}

// parseSignedDocument reads what a signature covered. It refuses DTDs and
// any content beyond the one document element.
func parseSignedDocument(content []byte) (*signedDocument, error) {
	if len(content) == 0 {
		return nil, errors.New("the signature covers no content")
	}
	if len(content) > 1<<20 {
		return nil, errors.New("the signed content is larger than a document of this kind can be")
	}
	dec := xml.NewDecoder(bytes.NewReader(content))
	dec.Strict = true
	var d signedDocument
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, errors.New("the signed content holds no document")
		}
		if err != nil {
			return nil, fmt.Errorf("the signed content is not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, errors.New("the signed content carries a DTD")
		case xml.StartElement:
			if err := dec.DecodeElement(&d, &t); err != nil {
				return nil, fmt.Errorf("the signed content is not an esig document: %v", err)
			}
			return &d, nil
		}
	}
}

// CheckSignedApplication checks that signed content is the application
// document of a: same application, same subscriber, same purpose.
func CheckSignedApplication(content []byte, a *store.Application) error {
	d, err := parseSignedDocument(content)
	if err != nil {
		return err
	}
	switch {
	case d.Purpose != PurposeApplication:
		return fmt.Errorf("the signed document is a %q, not an application", d.Purpose)
	case d.ApplicationID != a.ID:
		return fmt.Errorf("the signed document is application %q, not %q", d.ApplicationID, a.ID)
	case d.SubscriberID != a.SubscriberID:
		return errors.New("the signed document names another subscriber")
	}
	return nil
}

// checkSignedDeactivation checks that signed content asks to deactivate
// subscriber sub.
func checkSignedDeactivation(content []byte, sub *store.Subscriber) error {
	d, err := parseSignedDocument(content)
	if err != nil {
		return err
	}
	if d.Purpose != PurposeDeactivation || d.SubscriberID != sub.ID {
		return fmt.Errorf("the signed document is not a deactivation request for subscriber %s", sub.ID)
	}
	return nil
}
