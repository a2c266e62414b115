// Package signer holds what esig's signature formats (signer/cades,
// signer/xades, signer/pades) share: the algorithms a new signature may
// use, the sources of time stamps and revocation data, and the gathering
// of validation data for level LT.
package signer

import (
	"context"
	"crypto"
	"crypto/rsa"
	"fmt"
)

// Timestamper obtains an RFC 3161 time-stamp token over a digest
// (signer/tsp through cades.TimestamperFunc is one).
type Timestamper interface {
	Timestamp(ctx context.Context, digest []byte, h crypto.Hash) (token []byte, err error)
}

// CheckNewSignature applies ETSI TS 119 312 to a signature about to be
// made with a key whose public part is pub, over a digest h: SHA-2 or SHA-3
// (no SHA-1, no MD5), and RSA keys of at least 2048 bits. A format may
// accept fewer digests than this, for want of an identifier to write.
func CheckNewSignature(pub crypto.PublicKey, h crypto.Hash) error {
	switch h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512, crypto.SHA3_256, crypto.SHA3_384, crypto.SHA3_512:
	default:
		return fmt.Errorf("%v is not acceptable for new signatures (ETSI TS 119 312)", h)
	}
	if k, ok := pub.(*rsa.PublicKey); ok && k.N.BitLen() < 2048 {
		return fmt.Errorf("RSA keys below 2048 bits are not acceptable for new signatures (ETSI TS 119 312); this one has %d", k.N.BitLen())
	}
	return nil
}
