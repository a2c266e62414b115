package issuance

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// certBody is everything a certificate esig issues says, before it is
// signed: the TBSCertificate of RFC 5280, section 4.1, for the end-entity
// certificates of the profiles. It is encoded by esig rather than by
// crypto/x509, whose CreateCertificate insists on signing (and checking the
// signature) as it encodes. Encoding the body once and signing it twice,
// first with the lint key and then with the CA key, saves a signature
// verification per certificate. The extensions come in crypto/x509's
// order, and TestCertBodyMatchesCryptoX509 holds the encoding byte for byte
// to what CreateCertificate writes from the same template.
type certBody struct {
	serial    *big.Int
	sigAlg    sigAlg
	issuer    []byte // DER Name
	notBefore time.Time
	notAfter  time.Time
	subject   []byte // DER Name
	spki      []byte // DER SubjectPublicKeyInfo
	keyUsage  x509.KeyUsage
	// eku, when set, is written non-critical in crypto/x509's place for
	// extendedKeyUsage; a critical one comes among extra.
	eku       []asn1.ObjectIdentifier
	skid      []byte
	akid      []byte
	ocsp      []string
	caIssuers []string
	emails    []string
	policies  []asn1.ObjectIdentifier
	crlDP     []string
	extra     []pkix.Extension // written last, in order
}

// sigAlg is a signature algorithm a CA key signs with: its DER
// AlgorithmIdentifier and the digest it signs.
type sigAlg struct {
	der  []byte
	hash crypto.Hash
}

// The signature algorithms crypto/x509 picks for each key: ECDSA with the
// digest matching the curve, RSA PKCS#1 v1.5 with SHA-256 (and a NULL
// parameter, RFC 4055).
var (
	sigECDSAWithSHA256 = sigAlg{der: []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, hash: crypto.SHA256}
	sigECDSAWithSHA384 = sigAlg{der: []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, hash: crypto.SHA384}
	sigECDSAWithSHA512 = sigAlg{der: []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, hash: crypto.SHA512}
	sigSHA256WithRSA   = sigAlg{der: []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}, hash: crypto.SHA256}
)

// signatureAlgorithm is the algorithm a CA with public key pub signs with.
func signatureAlgorithm(pub crypto.PublicKey) (sigAlg, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return sigECDSAWithSHA256, nil
		case elliptic.P384():
			return sigECDSAWithSHA384, nil
		case elliptic.P521():
			return sigECDSAWithSHA512, nil
		}
		return sigAlg{}, fmt.Errorf("issuance: unsupported CA curve %s", k.Curve.Params().Name)
	case *rsa.PublicKey:
		return sigSHA256WithRSA, nil
	}
	return sigAlg{}, fmt.Errorf("issuance: unsupported CA key type %T", pub)
}

// Extension OIDs crypto/x509 would write for the same template.
var (
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidAuthorityInfo    = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 1, 1}
	oidSubjectAltName   = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidCertPolicies     = asn1.ObjectIdentifier{2, 5, 29, 32}
	oidCRLDistribution  = asn1.ObjectIdentifier{2, 5, 29, 31}
	oidAccessOCSP       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1}
	oidAccessCAIssuers  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 2}
)

// emptySubject is the DER of an empty Name; a certificate whose subject is
// empty must mark subjectAltName critical (RFC 5280 4.2.1.6).
var emptySubject = []byte{0x30, 0x00}

// marshal encodes the body as a DER TBSCertificate.
func (c *certBody) marshal() ([]byte, error) {
	if c.serial == nil || c.serial.Sign() <= 0 {
		return nil, fmt.Errorf("issuance: serial must be positive")
	}
	for _, e := range c.emails {
		if !isIA5(e) {
			return nil, fieldErr("subject.email", "%q is not ASCII", e)
		}
	}
	for _, u := range append(append(append([]string{}, c.ocsp...), c.caIssuers...), c.crlDP...) {
		if !isIA5(u) {
			return nil, fmt.Errorf("issuance: URL %q is not ASCII", u)
		}
	}
	b := cryptobyte.NewBuilder(make([]byte, 0, 1024))
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1Int64(2) // v3
		})
		b.AddASN1BigInt(c.serial)
		b.AddBytes(c.sigAlg.der)
		b.AddBytes(c.issuer)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addTime(b, c.notBefore)
			addTime(b, c.notAfter)
		})
		b.AddBytes(c.subject)
		b.AddBytes(c.spki)
		b.AddASN1(cbasn1.Tag(3).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				c.addExtensions(b)
			})
		})
	})
	return b.Bytes()
}

// addTime writes t as crypto/x509 does: UTCTime through 2049,
// GeneralizedTime from 2050 (RFC 5280 4.1.2.5).
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC()
	if t.Year() >= 1950 && t.Year() < 2050 {
		b.AddASN1UTCTime(t)
		return
	}
	b.AddASN1GeneralizedTime(t)
}

// addExtension writes one Extension whose value the body function writes.
func addExtension(b *cryptobyte.Builder, id asn1.ObjectIdentifier, critical bool, value func(*cryptobyte.Builder)) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(id)
		if critical {
			b.AddASN1Boolean(true)
		}
		b.AddASN1(cbasn1.OCTET_STRING, value)
	})
}

// addExtensions writes the extensions in crypto/x509's order: keyUsage,
// extKeyUsage, basicConstraints, subjectKeyIdentifier,
// authorityKeyIdentifier, authorityInfoAccess, subjectAltName,
// certificatePolicies, cRLDistributionPoints, then the extra ones.
func (c *certBody) addExtensions(b *cryptobyte.Builder) {
	if c.keyUsage != 0 {
		addExtension(b, oidKeyUsage, true, func(b *cryptobyte.Builder) { addKeyUsage(b, c.keyUsage) })
	}
	if len(c.eku) > 0 {
		addExtension(b, oidExtKeyUsage, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, oid := range c.eku {
					b.AddASN1ObjectIdentifier(oid)
				}
			})
		})
	}
	// An end entity: cA FALSE and no pathLenConstraint, an empty SEQUENCE.
	addExtension(b, oidBasicConstraints, true, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(*cryptobyte.Builder) {})
	})
	if len(c.skid) > 0 {
		addExtension(b, oidSubjectKeyID, false, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(c.skid)
		})
	}
	if len(c.akid) > 0 {
		addExtension(b, oidAuthorityKeyID, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(c.akid) })
			})
		})
	}
	if len(c.ocsp) > 0 || len(c.caIssuers) > 0 {
		addExtension(b, oidAuthorityInfo, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, access := range []struct {
					method asn1.ObjectIdentifier
					urls   []string
				}{{oidAccessOCSP, c.ocsp}, {oidAccessCAIssuers, c.caIssuers}} {
					for _, u := range access.urls {
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(access.method)
							addGeneralName(b, 6, u)
						})
					}
				}
			})
		})
	}
	if len(c.emails) > 0 {
		critical := string(c.subject) == string(emptySubject)
		addExtension(b, oidSubjectAltName, critical, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range c.emails {
					addGeneralName(b, 1, e)
				}
			})
		})
	}
	if len(c.policies) > 0 {
		addExtension(b, oidCertPolicies, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, oid := range c.policies {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
				}
			})
		})
	}
	if len(c.crlDP) > 0 {
		addExtension(b, oidCRLDistribution, false, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, u := range c.crlDP {
					// DistributionPoint { distributionPoint [0] { fullName [0] { uri } } }
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								addGeneralName(b, 6, u)
							})
						})
					})
				}
			})
		})
	}
	for _, e := range c.extra {
		addExtension(b, e.Id, e.Critical, func(b *cryptobyte.Builder) { b.AddBytes(e.Value) })
	}
}

// addGeneralName writes an IA5String GeneralName with its implicit tag
// (1 rfc822Name, 6 uniformResourceIdentifier).
func addGeneralName(b *cryptobyte.Builder, tag uint8, s string) {
	b.AddASN1(cbasn1.Tag(tag).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes([]byte(s)) })
}

// addKeyUsage writes the KeyUsage BIT STRING as crypto/x509 does: bit 0
// (digitalSignature) is the most significant bit of the first octet, and
// the encoding stops at the last bit set (DER, X.690 11.2.2).
func addKeyUsage(b *cryptobyte.Builder, ku x509.KeyUsage) {
	bits := []byte{reverseBits(byte(ku)), reverseBits(byte(ku >> 8))}
	if bits[1] == 0 {
		bits = bits[:1]
	}
	last := bits[len(bits)-1]
	unused := 0
	for unused < 8 && last&(1<<unused) == 0 {
		unused++
	}
	b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) {
		b.AddUint8(uint8(unused))
		b.AddBytes(bits)
	})
}

func reverseBits(v byte) byte {
	var r byte
	for i := range 8 {
		r |= (v >> i & 1) << (7 - i)
	}
	return r
}

// isIA5 reports whether s fits an IA5String (7-bit ASCII).
func isIA5(s string) bool {
	for _, r := range s {
		if r >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
