// Package cades produces CAdES baseline signatures (ETSI EN 319 122-1 and
// -2) at levels B-B, B-T, B-LT and B-LTA, attached or detached.
//
// The SignedData is written here rather than with github.com/digitorus/pkcs7
// because that package holds the whole content in memory (a 256 MiB file
// costs about 1 GB) and has no signing-certificate-v2 or RSA-PSS. Here the
// content is read twice as a stream: once through the hash, and for an
// attached signature once more straight into the output, with the encoding
// lengths computed beforehand from the content's size. The second pass is
// hashed too and must agree with the first, so content that changes under
// our feet cannot produce a signature over other bytes than it carries.
// Memory use is therefore independent of the content's size.
package cades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"time"

	"esig/internal/cms"
	"esig/signer"
)

// Level is a CAdES baseline level.
type Level int

// The baseline levels of ETSI EN 319 122-2.
const (
	LevelB Level = iota
	LevelT
	LevelLT
	LevelLTA
)

// ParseLevel reads "B", "T", "LT" or "LTA".
func ParseLevel(s string) (Level, error) {
	switch s {
	case "B", "b", "B-B":
		return LevelB, nil
	case "T", "t", "B-T":
		return LevelT, nil
	case "LT", "lt", "B-LT":
		return LevelLT, nil
	case "LTA", "lta", "B-LTA":
		return LevelLTA, nil
	}
	return 0, fmt.Errorf("cades: level %q is not one of B, T, LT, LTA", s)
}

// String is the level's name in ETSI EN 319 122-2.
func (l Level) String() string {
	if l < LevelB || l > LevelLTA {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return [...]string{"B", "T", "LT", "LTA"}[l]
}

// Timestamper obtains a time-stamp token over a digest.
type Timestamper = signer.Timestamper

// ValidationData supplies, for B-LT and B-LTA, the revocation data proving
// a certificate unrevoked now.
type ValidationData = signer.RevocationSource

// Options configure one signature.
type Options struct {
	Signer      crypto.Signer
	Certificate *x509.Certificate
	// Chain holds the CA certificates to include (issuer first is usual).
	Chain []*x509.Certificate
	// Hash defaults to SHA-256; SHA-1 and MD5 are refused for new signatures.
	Hash crypto.Hash
	// PSS signs with RSASSA-PSS instead of PKCS#1 v1.5 (RSA keys only).
	PSS      bool
	Detached bool
	Level    Level
	// SigningTime defaults to now.
	SigningTime time.Time
	// NoSigningTime leaves the signing-time attribute out, as PAdES does
	// (EN 319 142-1, 5.2.3: the claimed time is the signature dictionary's
	// M entry).
	NoSigningTime bool
	// Timestamper is required from B-T up.
	Timestamper Timestamper
	// Validation is required from B-LT up.
	Validation ValidationData
}

// Content is the data to sign: read from the start once for the hash and,
// for an attached signature, once more for the output.
type Content interface {
	io.Reader
	io.Seeker
}

// Sign signs content and writes the DER ContentInfo to out.
func Sign(ctx context.Context, content Content, out io.Writer, o Options) error {
	if err := o.prepare(); err != nil {
		return err
	}

	// Pass 1: the content's digest (and size).
	if _, err := content.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("cades: content: %w", err)
	}
	h := o.Hash.New()
	size, err := io.CopyBuffer(h, content, make([]byte, 1<<20))
	if err != nil {
		return fmt.Errorf("cades: reading content: %w", err)
	}
	digest := h.Sum(nil)

	sig, err := newSignature(o, digest)
	if err != nil {
		return err
	}
	if o.Level >= LevelT {
		if err := sig.addSignatureTimestamp(ctx); err != nil {
			return err
		}
	}
	if o.Level >= LevelLT {
		if err := sig.addValidationData(ctx); err != nil {
			return err
		}
	}
	if o.Level >= LevelLTA {
		if err := sig.addArchiveTimestamp(ctx); err != nil {
			return err
		}
	}

	if o.Detached {
		_, err := out.Write(sig.encode(nil))
		return err
	}
	// Pass 2: write the content into the encoding, re-hashing it.
	if _, err := content.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("cades: content: %w", err)
	}
	return sig.encodeAttached(out, content, size)
}

// prepare checks o for a new signature and fills in its defaults.
func (o *Options) prepare() error {
	if o.Signer == nil || o.Certificate == nil {
		return errors.New("cades: a signer and its certificate are required")
	}
	pub, err := x509.MarshalPKIXPublicKey(o.Signer.Public())
	if err != nil || !bytes.Equal(pub, o.Certificate.RawSubjectPublicKeyInfo) {
		return errors.New("cades: the key does not match the certificate")
	}
	if o.Hash == 0 {
		o.Hash = crypto.SHA256
	}
	if err := signer.CheckNewSignature(o.Signer.Public(), o.Hash); err != nil {
		return fmt.Errorf("cades: %w", err)
	}
	if o.Level >= LevelT && o.Timestamper == nil {
		return fmt.Errorf("cades: level %s needs a time-stamp authority", o.Level)
	}
	if o.Level >= LevelLT && o.Validation == nil {
		return fmt.Errorf("cades: level %s needs a source of revocation data", o.Level)
	}
	if o.SigningTime.IsZero() {
		o.SigningTime = time.Now()
	}
	return nil
}

// SignDigest makes a detached SignedData over content whose digest (under
// o.Hash) the caller computed, at level B-B or, with o.Level LevelT, B-T.
// PAdES signs this way: the content is the bytes a PDF's ByteRange covers,
// and its later levels live in the PDF, not in the CMS.
func SignDigest(ctx context.Context, digest []byte, o Options) ([]byte, error) {
	if err := o.prepare(); err != nil {
		return nil, err
	}
	if o.Level > LevelT {
		return nil, fmt.Errorf("cades: a signature over a digest is made at level B or T, not %s", o.Level)
	}
	if len(digest) != o.Hash.Size() {
		return nil, fmt.Errorf("cades: the digest is %d bytes, %v makes %d", len(digest), o.Hash, o.Hash.Size())
	}
	sig, err := newSignature(o, digest)
	if err != nil {
		return nil, err
	}
	if o.Level >= LevelT {
		if err := sig.addSignatureTimestamp(ctx); err != nil {
			return nil, err
		}
	}
	return sig.encode(nil), nil
}

// newSignature starts the SignedData of a B-B signature over digest.
func newSignature(o Options, digest []byte) (*signature, error) {
	si, err := signerInfo(o, digest, true)
	if err != nil {
		return nil, err
	}
	return &signature{opts: o, digest: digest, signerInfo: si, certs: certList(o)}, nil
}

func certList(o Options) [][]byte {
	list := [][]byte{o.Certificate.Raw}
	for _, c := range o.Chain {
		if !bytes.Equal(c.Raw, o.Certificate.Raw) {
			list = append(list, c.Raw)
		}
	}
	return list
}

// signerInfo builds and signs a SignerInfo over digest with the signed
// attributes of EN 319 122-1 (5.1, 5.2.1, 5.2.2): content-type (left out
// of a countersignature, RFC 5652 11.4), signing-time (unless
// o.NoSigningTime), message-digest and signing-certificate-v2.
func signerInfo(o Options, digest []byte, contentType bool) (*unsignedSI, error) {
	digestAlg, err := cms.DigestAlgorithm(o.Hash)
	if err != nil {
		return nil, err
	}
	sigAlg, err := cms.SignatureAlgorithmFor(o.Signer.Public(), o.Hash, o.PSS)
	if err != nil {
		return nil, err
	}
	scv2, err := cms.SigningCertificateV2(o.Certificate, crypto.SHA256)
	if err != nil {
		return nil, err
	}
	var attrs [][]byte
	if contentType {
		ctOID, _ := asn1.Marshal(cms.OIDData)
		attrs = append(attrs, cms.EncodeAttribute(cms.OIDAttrContentType, ctOID))
	}
	if !o.NoSigningTime {
		attrs = append(attrs, cms.EncodeAttribute(cms.OIDAttrSigningTime, cms.EncodeTime(o.SigningTime)))
	}
	attrs = append(attrs,
		cms.EncodeAttribute(cms.OIDAttrMessageDigest, cms.Encode(cms.ClassUniversal, cms.TagOctetString, false, digest)),
		cms.EncodeAttribute(cms.OIDAttrSigningCertificateV2, scv2),
	)
	set := cms.SetOf(attrs...)
	value, err := signBytes(o, set)
	if err != nil {
		return nil, err
	}
	signed, err := cms.Implicit(0, set)
	if err != nil {
		return nil, err
	}
	serial, err := asn1.Marshal(o.Certificate.SerialNumber)
	if err != nil {
		return nil, err
	}
	return &unsignedSI{
		version:   []byte{2, 1, 1},
		sid:       cms.Sequence(o.Certificate.RawIssuer, serial),
		digestAlg: digestAlg.Raw,
		signed:    signed,
		sigAlg:    sigAlg.Raw,
		signature: cms.Encode(cms.ClassUniversal, cms.TagOctetString, false, value),
		value:     value,
	}, nil
}

// signBytes signs the DER SET OF signed attributes.
func signBytes(o Options, msg []byte) ([]byte, error) {
	if _, ok := o.Signer.Public().(ed25519.PublicKey); ok {
		return o.Signer.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	h := o.Hash.New()
	h.Write(msg)
	var opts crypto.SignerOpts = o.Hash
	if o.PSS {
		if _, ok := o.Signer.Public().(*rsa.PublicKey); !ok {
			return nil, errors.New("cades: RSA-PSS needs an RSA key")
		}
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: o.Hash}
	}
	v, err := o.Signer.Sign(rand.Reader, h.Sum(nil), opts)
	if err != nil {
		return nil, fmt.Errorf("cades: signing: %w", err)
	}
	return v, nil
}

// unsignedSI is a SignerInfo being assembled: the signed part is fixed,
// unsigned attributes are added level by level.
type unsignedSI struct {
	version, sid, digestAlg, signed, sigAlg, signature []byte
	value                                              []byte
	unsigned                                           [][]byte
}

func (s *unsignedSI) encode() []byte {
	parts := [][]byte{s.version, s.sid, s.digestAlg, s.signed, s.sigAlg, s.signature}
	if len(s.unsigned) > 0 {
		set := cms.SetOf(s.unsigned...)
		e, _ := cms.ParseOne(set)
		parts = append(parts, cms.Encode(cms.ClassContext, 1, true, e.Body))
	}
	return cms.Sequence(parts...)
}

type signature struct {
	opts       Options
	digest     []byte
	signerInfo *unsignedSI
	certs      [][]byte
	crls       [][]byte // RevocationInfoChoice encodings
}

// parts returns the SignedData fields around encapContentInfo.
func (s *signature) parts() (head, tail []byte) {
	alg, _ := cms.DigestAlgorithm(s.opts.Hash)
	head = append([]byte{2, 1, 1}, cms.SetOf(alg.Raw)...)
	var t []byte
	if len(s.certs) > 0 {
		t = append(t, cms.Encode(cms.ClassContext, 0, true, bytes.Join(s.certs, nil))...)
	}
	if len(s.crls) > 0 {
		t = append(t, cms.Encode(cms.ClassContext, 1, true, bytes.Join(s.crls, nil))...)
	}
	t = append(t, cms.SetOf(s.signerInfo.encode())...)
	return head, t
}

// encode returns the ContentInfo with encapContentInfo holding content
// (nil: detached).
func (s *signature) encode(content []byte) []byte {
	head, tail := s.parts()
	ct, _ := asn1.Marshal(cms.OIDData)
	encap := cms.Sequence(ct)
	if content != nil {
		encap = cms.Sequence(ct, cms.Explicit(0, cms.Encode(cms.ClassUniversal, cms.TagOctetString, false, content)))
	}
	sd := cms.Sequence(head, encap, tail)
	sdOID, _ := asn1.Marshal(cms.OIDSignedData)
	return cms.Sequence(sdOID, cms.Explicit(0, sd))
}

// encodeAttached writes the ContentInfo with the content streamed into
// encapContentInfo: the headers are computed from the size first.
func (s *signature) encodeAttached(out io.Writer, content io.Reader, size int64) error {
	if size > 1<<31-1-1<<20 {
		return errors.New("cades: attached content over 2 GiB; sign it detached")
	}
	n := int(size)
	head, tail := s.parts()
	ct, _ := asn1.Marshal(cms.OIDData)
	octHdr := cms.Header(cms.ClassUniversal, cms.TagOctetString, false, n)
	expHdr := cms.Header(cms.ClassContext, 0, true, len(octHdr)+n)
	encapLen := len(ct) + len(expHdr) + len(octHdr) + n
	encapHdr := cms.Header(cms.ClassUniversal, cms.TagSequence, true, encapLen)
	sdLen := len(head) + len(encapHdr) + encapLen + len(tail)
	sdHdr := cms.Header(cms.ClassUniversal, cms.TagSequence, true, sdLen)
	sdOID, _ := asn1.Marshal(cms.OIDSignedData)
	ciExpHdr := cms.Header(cms.ClassContext, 0, true, len(sdHdr)+sdLen)
	ciLen := len(sdOID) + len(ciExpHdr) + len(sdHdr) + sdLen
	ciHdr := cms.Header(cms.ClassUniversal, cms.TagSequence, true, ciLen)

	for _, b := range [][]byte{ciHdr, sdOID, ciExpHdr, sdHdr, head, encapHdr, ct, expHdr, octHdr} {
		if _, err := out.Write(b); err != nil {
			return err
		}
	}
	h := s.opts.Hash.New()
	written, err := io.CopyBuffer(io.MultiWriter(out, h), io.LimitReader(content, size), make([]byte, 1<<20))
	if err != nil {
		return fmt.Errorf("cades: writing content: %w", err)
	}
	if written != size || !bytes.Equal(h.Sum(nil), s.digest) {
		return errors.New("cades: the content changed while it was being signed")
	}
	_, err = out.Write(tail)
	return err
}

// addSignatureTimestamp adds a signature-time-stamp over the signature
// value (EN 319 122-1, 5.3): level B-T.
func (s *signature) addSignatureTimestamp(ctx context.Context) error {
	tok, err := s.timestamp(ctx, s.signerInfo.value)
	if err != nil {
		return fmt.Errorf("cades: signature time stamp: %w", err)
	}
	if _, err := cms.ParseToken(tok); err != nil {
		return fmt.Errorf("cades: the time-stamp authority returned an unusable token: %w", err)
	}
	s.signerInfo.unsigned = append(s.signerInfo.unsigned, cms.EncodeAttribute(cms.OIDAttrSignatureTimestamp, tok))
	return nil
}

func (s *signature) timestamp(ctx context.Context, data []byte) ([]byte, error) {
	h := s.opts.Hash.New()
	h.Write(data)
	return s.opts.Timestamper.Timestamp(ctx, h.Sum(nil), s.opts.Hash)
}
