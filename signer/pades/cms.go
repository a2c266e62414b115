package pades

import (
	"context"
	"crypto"
	"crypto/x509"

	"esig/signer/cades"
)

// CMSOptions configure the CMS signature a PAdES signature embeds.
type CMSOptions struct {
	Signer      crypto.Signer
	Certificate *x509.Certificate
	// Chain holds the CA certificates to include.
	Chain []*x509.Certificate
	// Hash defaults to SHA-256.
	Hash crypto.Hash
	// PSS signs with RSASSA-PSS (RSA keys only).
	PSS bool
	// Timestamper, when set, adds a signature-time-stamp (level B-T).
	Timestamper Timestamper
}

// SignCMS makes the detached CMS SignedData of a PAdES baseline signature
// over the digest of the bytes the ByteRange covers (ETSI EN 319 142-1,
// 5.1 and 6.3): signed attributes content-type, message-digest and
// signing-certificate-v2, and no signing-time, because PAdES carries the
// claimed signing time in the signature dictionary's M entry instead (EN
// 319 142-1, 5.2.3 and Table 1). With a Timestamper it adds the
// signature-time-stamp unsigned attribute over the signature value (EN 319
// 142-1, 5.3; EN 319 122-1, 5.3), which makes the signature B-T.
//
// The SignedData is signer/cades's (SignDigest); this only says what PAdES
// asks of it. It is exported so that tests building PDFs by other means
// sign them the way esig does.
func SignCMS(ctx context.Context, digest []byte, o CMSOptions) ([]byte, error) {
	level := cades.LevelB
	if o.Timestamper != nil {
		level = cades.LevelT
	}
	return cades.SignDigest(ctx, digest, cades.Options{
		Signer: o.Signer, Certificate: o.Certificate, Chain: o.Chain, Hash: o.Hash, PSS: o.PSS,
		Detached: true, NoSigningTime: true, Level: level, Timestamper: o.Timestamper,
	})
}
