package xmldsig

import "esig/internal/xmldsig/safexml"

// Limits bound the work a hostile document can cause. Zero fields take the
// defaults below. The parser limits are checked while tokenizing; the
// signature limits while reading each ds:Signature, before any digest is
// computed.
type Limits struct {
	MaxBytes      int64 // input size (default 64 MiB)
	MaxDepth      int   // element nesting (default 256)
	MaxNodes      int   // nodes in the tree (default 4 Mi)
	MaxAttributes int   // attributes on one element (default 256)
	MaxSignatures int   // ds:Signature elements processed (default 32)
	MaxReferences int   // References in one SignedInfo or Manifest (default 100)
	MaxTransforms int   // Transforms in one Reference, and XPath filters in one transform (default 10)
	// MaxWork bounds the bytes canonicalized, base64-decoded or digested
	// for all references of one Verify call, each XPath filter evaluation
	// counting as the document's size (default 8 × MaxBytes). The limits
	// above multiply (signatures × references × transforms, each possibly
	// over the whole document); this one caps the product.
	MaxWork int64
}

// Defaults of the signature-level limits.
const (
	DefaultMaxSignatures = 32
	DefaultMaxReferences = 100
	DefaultMaxTransforms = 10
)

// WithDefaults returns l with zero or negative fields set to their defaults.
func (l Limits) WithDefaults() Limits {
	p := l.parser()
	l.MaxBytes, l.MaxDepth, l.MaxNodes, l.MaxAttributes = p.MaxBytes, p.MaxDepth, p.MaxNodes, p.MaxAttributes
	if l.MaxSignatures <= 0 {
		l.MaxSignatures = DefaultMaxSignatures
	}
	if l.MaxReferences <= 0 {
		l.MaxReferences = DefaultMaxReferences
	}
	if l.MaxTransforms <= 0 {
		l.MaxTransforms = DefaultMaxTransforms
	}
	if l.MaxWork <= 0 {
		l.MaxWork = 8 * l.MaxBytes
	}
	return l
}

func (l Limits) parser() safexml.Limits {
	return safexml.Limits{MaxBytes: l.MaxBytes, MaxDepth: l.MaxDepth, MaxNodes: l.MaxNodes, MaxAttributes: l.MaxAttributes}.WithDefaults()
}
