package cms

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// TSTInfo is the content of an RFC 3161 time-stamp token (2.4.2).
type TSTInfo struct {
	Version       int
	Policy        asn1.ObjectIdentifier
	HashAlgorithm AlgorithmIdentifier
	Hash          crypto.Hash // 0 when the algorithm is unknown
	HashedMessage []byte
	SerialNumber  *big.Int
	GenTime       time.Time
	Accuracy      time.Duration
	Ordering      bool
	Nonce         *big.Int
	// TSAName is the DER of the tsa GeneralName's directoryName, if any.
	TSAName []byte
}

// Token is a parsed time-stamp token: a SignedData whose content is a
// TSTInfo, with exactly one signer (RFC 3161, 2.4.2).
type Token struct {
	Raw        []byte
	SignedData *SignedData
	Info       TSTInfo
}

// Signer returns the token's only SignerInfo.
func (t *Token) Signer() *SignerInfo { return &t.SignedData.SignerInfos[0] }

// ParseToken parses a TimeStampToken (a ContentInfo).
func ParseToken(der []byte) (*Token, error) {
	sd, err := ParseContentInfo(der)
	if err != nil {
		return nil, err
	}
	if !sd.ContentType.Equal(OIDTSTInfo) {
		return nil, fmt.Errorf("cms: time-stamp token content type is %v, not id-ct-TSTInfo", sd.ContentType)
	}
	if !sd.HasContent {
		return nil, errors.New("cms: time-stamp token has no TSTInfo")
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("cms: time-stamp token has %d signers, want 1", len(sd.SignerInfos))
	}
	info, err := ParseTSTInfo(sd.Content)
	if err != nil {
		return nil, err
	}
	return &Token{Raw: der, SignedData: sd, Info: *info}, nil
}

// ParseTSTInfo parses the DER of a TSTInfo.
func ParseTSTInfo(der []byte) (*TSTInfo, error) {
	e, err := ParseOne(der)
	if err != nil {
		return nil, fmt.Errorf("cms: TSTInfo: %w", err)
	}
	if !e.IsUniversal(TagSequence) || !e.Constructed {
		return nil, errors.New("cms: TSTInfo is not a SEQUENCE")
	}
	f, err := e.Children()
	if err != nil {
		return nil, fmt.Errorf("cms: TSTInfo: %w", err)
	}
	if len(f) < 5 {
		return nil, fmt.Errorf("cms: TSTInfo has %d fields, want at least 5", len(f))
	}
	t := &TSTInfo{}
	if t.Version, err = ParseSmallInt(f[0]); err != nil || t.Version != 1 {
		return nil, errors.New("cms: TSTInfo.version is not 1")
	}
	if t.Policy, err = ParseOID(f[1]); err != nil {
		return nil, fmt.Errorf("cms: TSTInfo.policy: %w", err)
	}
	mi, err := f[2].Children()
	if err != nil || len(mi) != 2 || !mi[1].IsUniversal(TagOctetString) {
		return nil, errors.New("cms: TSTInfo.messageImprint is malformed")
	}
	if t.HashAlgorithm, err = ParseAlgorithmIdentifier(mi[0]); err != nil {
		return nil, fmt.Errorf("cms: TSTInfo.messageImprint.hashAlgorithm: %w", err)
	}
	t.Hash = HashForOID(t.HashAlgorithm.Algorithm)
	if t.HashedMessage, err = mi[1].OctetString(); err != nil {
		return nil, fmt.Errorf("cms: TSTInfo.messageImprint.hashedMessage: %w", err)
	}
	if !f[3].IsUniversal(TagInteger) {
		return nil, errors.New("cms: TSTInfo.serialNumber is not an INTEGER")
	}
	if t.SerialNumber, err = ParseInteger(f[3]); err != nil {
		return nil, fmt.Errorf("cms: TSTInfo.serialNumber: %w", err)
	}
	if !f[4].IsUniversal(TagGeneralized) {
		return nil, errors.New("cms: TSTInfo.genTime is not a GeneralizedTime")
	}
	if t.GenTime, err = parseGeneralizedTime(f[4].Body); err != nil {
		return nil, fmt.Errorf("cms: TSTInfo.genTime: %w", err)
	}
	for _, x := range f[5:] {
		switch {
		case x.IsUniversal(TagSequence):
			if t.Accuracy, err = parseAccuracy(x); err != nil {
				return nil, fmt.Errorf("cms: TSTInfo.accuracy: %w", err)
			}
		case x.IsUniversal(TagBoolean):
			t.Ordering = len(x.Body) == 1 && x.Body[0] != 0
		case x.IsUniversal(TagInteger):
			if t.Nonce, err = ParseInteger(x); err != nil {
				return nil, fmt.Errorf("cms: TSTInfo.nonce: %w", err)
			}
		case x.Is(ClassContext, 0):
			if gn, err := x.Children(); err == nil && len(gn) == 1 && gn[0].Is(ClassContext, 4) {
				if n, err := gn[0].Children(); err == nil && len(n) == 1 {
					t.TSAName, _ = n[0].ToDER()
				}
			}
		case x.Is(ClassContext, 1):
			// extensions: none are understood; a critical one makes the
			// token unusable (RFC 3161 leaves it to the verifier).
			if critical, err := hasCriticalExtension(x); err != nil || critical {
				return nil, errors.New("cms: TSTInfo has a critical extension")
			}
		default:
			return nil, fmt.Errorf("cms: TSTInfo has unexpected %s", x)
		}
	}
	return t, nil
}

// parseGeneralizedTime accepts the fractional seconds RFC 3161 allows,
// which encoding/asn1 handles, and rejects anything but UTC ("Z").
func parseGeneralizedTime(b []byte) (time.Time, error) {
	if len(b) == 0 || b[len(b)-1] != 'Z' {
		return time.Time{}, errors.New("GeneralizedTime not in UTC")
	}
	var t time.Time
	if _, err := asn1.Unmarshal(Encode(ClassUniversal, TagGeneralized, false, b), &t); err != nil {
		// Some TSAs write a trailing-zero fraction DER forbids; parse leniently.
		tt, err2 := time.Parse("20060102150405.999999999Z", string(b))
		if err2 != nil {
			return time.Time{}, err
		}
		return tt, nil
	}
	return t, nil
}

func parseAccuracy(e Element) (time.Duration, error) {
	f, err := e.Children()
	if err != nil {
		return 0, err
	}
	var d time.Duration
	for _, x := range f {
		n, err := ParseSmallInt(x)
		if err != nil || n < 0 {
			return 0, errors.New("malformed accuracy")
		}
		switch {
		case x.IsUniversal(TagInteger):
			if n > 1<<20 {
				return 0, errors.New("accuracy seconds out of range")
			}
			d += time.Duration(n) * time.Second
		case x.Is(ClassContext, 0) && n <= 999:
			d += time.Duration(n) * time.Millisecond
		case x.Is(ClassContext, 1) && n <= 999:
			d += time.Duration(n) * time.Microsecond
		default:
			return 0, errors.New("malformed accuracy")
		}
	}
	return d, nil
}

func hasCriticalExtension(e Element) (bool, error) {
	exts, err := e.Children()
	if err != nil {
		return false, err
	}
	for _, x := range exts {
		f, err := x.Children()
		if err != nil {
			return false, err
		}
		if len(f) == 3 && f[1].IsUniversal(TagBoolean) && len(f[1].Body) == 1 && f[1].Body[0] != 0 {
			return true, nil
		}
	}
	return false, nil
}

// MatchesImprint reports whether the token's message imprint is the hash,
// under the token's own algorithm, that digest returns.
func (t *TSTInfo) MatchesImprint(digest func(crypto.Hash) ([]byte, error)) (bool, error) {
	if t.Hash == 0 {
		return false, fmt.Errorf("cms: time-stamp imprint uses unknown hash %v", t.HashAlgorithm.Algorithm)
	}
	d, err := digest(t.Hash)
	if err != nil {
		return false, err
	}
	return bytes.Equal(d, t.HashedMessage), nil
}

// TimeStampResp is an RFC 3161 (2.4.2) response.
type TimeStampResp struct {
	Status       int
	StatusString []string
	FailInfo     asn1.BitString
	Token        []byte // the TimeStampToken ContentInfo, nil if none
}

// ParseTimeStampResp parses a TimeStampResp.
func ParseTimeStampResp(der []byte) (*TimeStampResp, error) {
	var r struct {
		Status struct {
			Status       int
			StatusString []asn1.RawValue `asn1:"optional"`
			FailInfo     asn1.BitString  `asn1:"optional"`
		}
		Token asn1.RawValue `asn1:"optional"`
	}
	rest, err := asn1.Unmarshal(der, &r)
	if err != nil {
		return nil, fmt.Errorf("cms: TimeStampResp: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("cms: trailing data after TimeStampResp")
	}
	out := &TimeStampResp{Status: r.Status.Status, FailInfo: r.Status.FailInfo}
	for _, s := range r.Status.StatusString {
		out.StatusString = append(out.StatusString, string(s.Bytes))
	}
	if len(r.Token.FullBytes) > 0 {
		out.Token = r.Token.FullBytes
	}
	return out, nil
}
