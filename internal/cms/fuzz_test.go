package cms_test

import (
	"bytes"
	"crypto"
	"testing"

	"esig/internal/cms"
)

// FuzzBER checks the BER reader on hostile input: no panic, and whatever
// it reads re-encodes to DER that reads back as DER with the same value.
func FuzzBER(f *testing.F) {
	f.Add([]byte{0x30, 0x80, 0x04, 0x01, 0x41, 0x00, 0x00})
	f.Add([]byte{0x24, 0x80, 0x04, 0x01, 0x41, 0x04, 0x01, 0x42, 0x00, 0x00})
	f.Add([]byte{0x1f, 0x81, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, _, err := cms.ParseElement(b)
		if err != nil {
			return
		}
		d, err := e.ToDER()
		if err != nil {
			return
		}
		e2, err := cms.ParseOne(d)
		if err != nil {
			t.Fatalf("DER re-encoding does not parse: %v", err)
		}
		if !e2.IsDER() {
			t.Fatalf("re-encoding is not DER: %x", d)
		}
		if e.IsUniversal(cms.TagOctetString) {
			v1, err1 := e.OctetString()
			v2, err2 := e2.OctetString()
			if err1 == nil && (err2 != nil || !bytes.Equal(v1, v2)) {
				t.Fatalf("OCTET STRING value changed by re-encoding")
			}
		}
	})
}

// FuzzParseContentInfo runs the CMS parser and everything the verifier
// does with a parsed signature over hostile input.
func FuzzParseContentInfo(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x06, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := cms.ParseContentInfo(b)
		if err != nil {
			return
		}
		digest := make([]byte, 32)
		for i := range sd.SignerInfos {
			si := &sd.SignerInfos[i]
			si.SigningCertificateRefs()
			si.SigningTime()
			si.CheckAttributes(sd.ContentType, digest)
			if idx, err := cms.FindATSHashIndex(si.UnsignedAttrs); err == nil {
				idx.Check(sd, si)
			}
			if idx, err := cms.BuildATSHashIndexV3(crypto.SHA256, sd, si); err == nil {
				cms.ArchiveImprint(crypto.SHA256, sd, si, digest, idx)
			}
			for _, a := range si.UnsignedAttrs.All(cms.OIDAttrCounterSignature) {
				for _, v := range a.Values {
					cms.ParseSignerInfo(v)
				}
			}
		}
	})
}

// FuzzParseToken runs the time-stamp token and response parsers.
func FuzzParseToken(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if tok, err := cms.ParseToken(b); err == nil {
			tok.Info.MatchesImprint(func(h crypto.Hash) ([]byte, error) { return make([]byte, h.Size()), nil })
			tok.Signer().SigningCertificateRefs()
		}
		if r, err := cms.ParseTimeStampResp(b); err == nil && r.Token != nil {
			cms.ParseToken(r.Token)
		}
	})
}
