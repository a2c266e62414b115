package cades

import (
	"bytes"
	"strings"
	"testing"

	"esig/internal/cms"
	"esig/verifier/policy"
	"esig/verifier/trust"
)

// flipContentByte flips the first byte of the encapsulated content in the
// file's own encoding, leaving everything else as it was.
func flipContentByte(t *testing.T, data []byte) []byte {
	t.Helper()
	sd, err := cms.ParseContentInfo(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Content) == 0 {
		t.Fatal("no encapsulated content to tamper with")
	}
	// The content's first segment starts at the first occurrence of its
	// opening bytes after the eContentType.
	probe := sd.Content[:min(len(sd.Content), 16)]
	i := bytes.Index(data, probe)
	if i < 0 {
		t.Fatal("content not found in the encoding")
	}
	out := append([]byte(nil), data...)
	out[i] ^= 0x01
	return out
}

// rewrite rebuilds a DER signature with SignedData.certificates replaced
// by certs (when non-nil) and the first SignerInfo's sid replaced by sid
// (when non-nil), leaving every signed byte as it was.
func rewrite(t *testing.T, der []byte, certs [][]byte, sid []byte) []byte {
	t.Helper()
	ci, err := cms.ParseOne(der)
	if err != nil {
		t.Fatal(err)
	}
	cif, _ := ci.Children()
	inner, _ := cif[1].Children()
	sdf, _ := inner[0].Children()
	var parts [][]byte
	for _, f := range sdf {
		switch {
		case f.Is(cms.ClassContext, 0) && certs != nil:
			parts = append(parts, cms.Encode(cms.ClassContext, 0, true, bytes.Join(certs, nil)))
		case f.IsUniversal(cms.TagSet) && f.Raw[0] == 0x31 && sid != nil && len(parts) > 2:
			sis, _ := f.Children()
			sif, _ := sis[0].Children()
			var sp [][]byte
			for i, x := range sif {
				if i == 1 {
					sp = append(sp, sid)
				} else {
					sp = append(sp, x.Raw)
				}
			}
			parts = append(parts, cms.SetOf(cms.Sequence(sp...)))
		default:
			parts = append(parts, f.Raw)
		}
	}
	return cms.Sequence(cif[0].Raw, cms.Explicit(0, cms.Sequence(parts...)))
}

// flipSignatureByte flips a byte in the middle of the first signer's
// signature value.
func flipSignatureByte(t *testing.T, der []byte) []byte {
	t.Helper()
	sd, err := cms.ParseContentInfo(der)
	if err != nil {
		t.Fatal(err)
	}
	v := sd.SignerInfos[0].Signature
	i := bytes.Index(der, v)
	if i < 0 {
		t.Fatal("signature value not found")
	}
	out := append([]byte(nil), der...)
	out[i+len(v)/2] ^= 0x40
	return out
}

func policyWith(js string) (*policy.Policy, error) { return policy.Parse(strings.NewReader(js)) }

func loadAnchors(path string) (*trust.Anchors, error) {
	certs, err := trust.LoadFile(path)
	if err != nil {
		return nil, err
	}
	return trust.NewAnchors(certs...), nil
}
