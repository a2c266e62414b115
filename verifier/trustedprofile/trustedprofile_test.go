package trustedprofile

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"esig/verifier/policy"
	"esig/verifier/report"
)

const gen1 = `<xades:SignedProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#"><xades:SignedSignatureProperties>
<xades:SigningTime>2026-11-20T10:00:00Z</xades:SigningTime>
<xades:SignerRole><xades:ClaimedRoles><xades:ClaimedRole>
<ppZP:PodpisZP xmlns:ppZP="http://crd.gov.pl/xml/schematy/ppzp/" xmlns:os="http://crd.gov.pl/xml/schematy/osoba/2009/03/06/">
<ppZP:DaneZP><ppZP:DaneZPOsobyFizycznej><os:Imie>Anna Maria</os:Imie><os:Nazwisko rodzaj="pierwszy czlon">Nowak</os:Nazwisko><os:PESEL>PESEL</os:PESEL></ppZP:DaneZPOsobyFizycznej></ppZP:DaneZP>
<ppZP:DanePodpisu><ppZP:IdKontaUzytkownikaEpuap>anowak</ppZP:IdKontaUzytkownikaEpuap></ppZP:DanePodpisu>
</ppZP:PodpisZP></xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRole>
</xades:SignedSignatureProperties></xades:SignedProperties>`

const gen2 = `<x:SignedProperties xmlns:x="http://uri.etsi.org/01903/v1.3.2#"><x:SignedSignatureProperties>
<x:SignerRole><x:ClaimedRoles><x:ClaimedRole>
<pz:EPSignature xmlns:pz="http://crd.gov.pl/xml/schematy/podpis_zaufany/"><pz:NaturalPerson>
<pz:CurrentFamilyName>Kowalski</pz:CurrentFamilyName><pz:FirstName>Jan</pz:FirstName><pz:DateOfBirth>DOB</pz:DateOfBirth><pz:PersonalIdentifier>ID</pz:PersonalIdentifier>
</pz:NaturalPerson><pz:SignatureData><pz:IdentityIssuer>Węzeł Krajowy</pz:IdentityIssuer><pz:IdentityIssueTimestamp>2026-11-20T09:59:00Z</pz:IdentityIssueTimestamp></pz:SignatureData></pz:EPSignature>
</x:ClaimedRole></x:ClaimedRoles></x:SignerRole></x:SignedSignatureProperties></x:SignedProperties>`

func parse(t *testing.T, s string) *etree.Element {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromString(s); err != nil {
		t.Fatal(err)
	}
	return d.Root()
}

func TestExtract(t *testing.T) {
	tests := []struct {
		name    string
		xml     string
		want    *Claim
		errPart string
	}{
		{"gen1", strings.Replace(gen1, "PESEL</os", "02270803624</os", 1), &Claim{Generation: GenerationPodpisZP, GivenNames: []string{"Anna", "Maria"}, Surname: "Nowak", PESEL: "02270803624", AccountID: "anowak"}, ""},
		{"gen1 bad pesel", strings.Replace(gen1, "PESEL</os", "02270803625</os", 1), nil, "check digit"},
		{"gen2 plain", strings.NewReplacer("DOB", "1944-05-14", ">ID<", ">44051401359<").Replace(gen2), &Claim{Generation: GenerationEPSignature, GivenNames: []string{"Jan"}, Surname: "Kowalski", PESEL: "44051401359", DateOfBirth: "1944-05-14", IdentityIssuer: "Węzeł Krajowy", IdentityIssued: "2026-11-20T09:59:00Z"}, ""},
		{"gen2 eidas id", strings.NewReplacer("DOB", "1944-05-14", ">ID<", ">PL/PL/44051401359<").Replace(gen2), &Claim{Generation: GenerationEPSignature, GivenNames: []string{"Jan"}, Surname: "Kowalski", PESEL: "44051401359", DateOfBirth: "1944-05-14", IdentityIssuer: "Węzeł Krajowy", IdentityIssued: "2026-11-20T09:59:00Z"}, ""},
		{"gen2 birth date disagrees", strings.NewReplacer("DOB", "1950-01-01", ">ID<", ">44051401359<").Replace(gen2), nil, "date of birth"},
		{"gen2 no pesel", strings.NewReplacer("DOB", "", ">ID<", "><").Replace(gen2), nil, "lacks the PESEL"},
		{"no payload", `<x:SignedProperties xmlns:x="http://uri.etsi.org/01903/v1.3.2#"><x:SignedSignatureProperties/></x:SignedProperties>`, nil, ""},
		{"payload outside ClaimedRole", `<x:SignedProperties xmlns:x="http://uri.etsi.org/01903/v1.3.2#"><x:SignedSignatureProperties><pz:EPSignature xmlns:pz="http://crd.gov.pl/xml/schematy/podpis_zaufany/"/></x:SignedSignatureProperties></x:SignedProperties>`, nil, ""},
		{"wrong namespace", strings.Replace(strings.Replace(gen1, "PESEL</os", "02270803624</os", 1), "schematy/ppzp/", "schematy/fake/", 1), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Extract(parse(t, tt.xml))
			if tt.errPart != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errPart) {
					t.Fatalf("error %v, want one about %q", err, tt.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || (got != nil && strings.Join(got.GivenNames, " ") != strings.Join(tt.want.GivenNames, " ")) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if got != nil && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func sealCert(org, orgID, cn string) *x509.Certificate {
	return &x509.Certificate{Subject: pkix.Name{Organization: []string{org}, CommonName: cn,
		Names: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 97}, Value: orgID}}}}
}

func TestEvaluate(t *testing.T) {
	signed := parse(t, strings.Replace(gen1, "PESEL</os", "02270803624</os", 1))
	sealer := policy.DefaultValidation().TrustedProfile
	ministry := sealCert("Ministerstwo Cyfryzacji", "VATPL-5252955037", "Minister do spraw informatyzacji")
	impostor := sealCert("Ministerstwo Cyfryzacji", "VATPL-1234563218", "Minister do spraw informatyzacji")
	when := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	passed := &report.Signature{Indication: report.TotalPassed, SigningTime: &when}
	failed := &report.Signature{Indication: report.TotalFailed, SubIndication: report.HashFailure}
	empty := parse(t, `<x:SignedProperties xmlns:x="http://uri.etsi.org/01903/v1.3.2#"/>`)
	tests := []struct {
		name      string
		sig       *report.Signature
		cert      *x509.Certificate
		signed    *etree.Element
		unsigned  *etree.Element
		identity  bool
		warnAbout string
	}{
		{"genuine", passed, ministry, signed, nil, true, ""},
		{"other sealer", passed, impostor, signed, nil, false, "not sealed by the trusted-profile sealer"},
		{"broken seal", failed, ministry, signed, nil, false, "not valid"},
		{"payload in unsigned properties", passed, ministry, empty, signed, false, "outside the signed properties"},
		{"no payload", passed, ministry, empty, nil, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := Evaluate(tt.sig, tt.cert, tt.signed, tt.unsigned, sealer)
			if (out.Identity != nil) != tt.identity {
				t.Fatalf("identity %+v, want present=%v (warnings %v)", out.Identity, tt.identity, out.Warnings)
			}
			if tt.identity && (out.Identity.PESEL != "02270803624" || out.Identity.Surname != "Nowak" || out.Identity.SigningTime != "2026-11-20T10:00:00Z" || out.Identity.AccountID != "anowak") {
				t.Fatalf("identity %+v", out.Identity)
			}
			if tt.warnAbout != "" && (len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], tt.warnAbout)) {
				t.Fatalf("warnings %v, want one about %q", out.Warnings, tt.warnAbout)
			}
			if tt.warnAbout == "" && len(out.Warnings) != 0 {
				t.Fatalf("unexpected warnings %v", out.Warnings)
			}
		})
	}
}
