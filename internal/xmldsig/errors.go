package xmldsig

import (
	"errors"
	"fmt"
)

// Kind classifies an Error by the ETSI EN 319 102-1 sub-indication a
// validation engine should report for it.
type Kind int

const (
	// FormatFailure: the document or signature is malformed, breaks a
	// limit, has a duplicate Id or a DOCTYPE, or uses a transform,
	// algorithm or XPath expression this package does not implement
	// (sub-indication FORMAT_FAILURE).
	FormatFailure Kind = iota + 1
	// HashFailure: a Reference digest does not match (HASH_FAILURE).
	HashFailure
	// SigCryptoFailure: the SignatureValue does not verify under the given
	// key (SIG_CRYPTO_FAILURE).
	SigCryptoFailure
	// SignedDataNotFound: a Reference target is absent, e.g. detached
	// content the caller did not supply (SIGNED_DATA_NOT_FOUND).
	SignedDataNotFound
)

// String returns the ETSI EN 319 102-1 sub-indication name of k.
func (k Kind) String() string {
	switch k {
	case FormatFailure:
		return "FORMAT_FAILURE"
	case HashFailure:
		return "HASH_FAILURE"
	case SigCryptoFailure:
		return "SIG_CRYPTO_FAILURE"
	case SignedDataNotFound:
		return "SIGNED_DATA_NOT_FOUND"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Sentinels for errors.Is: errors.Is(err, ErrFormat) holds for every *Error
// of Kind FormatFailure, and so on. ErrUnsupported additionally marks format
// failures caused by something valid but not implemented (an algorithm, a
// transform, an XPath expression), which a report may phrase differently.
var (
	ErrFormat             = errors.New("xmldsig: format failure")
	ErrHash               = errors.New("xmldsig: digest mismatch")
	ErrSigCrypto          = errors.New("xmldsig: signature value does not verify")
	ErrSignedDataNotFound = errors.New("xmldsig: signed data not found")
	ErrUnsupported        = errors.New("xmldsig: unsupported")
)

// Error is the error type of this package. Where names the element or
// attribute at fault as a short path ("ds:Reference[2]/@URI") so that a
// report can point at it.
type Error struct {
	Kind        Kind
	Unsupported bool
	Where       string
	Msg         string
	Err         error
}

// Error renders the location at fault, the message and the cause.
func (e *Error) Error() string {
	s := "xmldsig: "
	if e.Where != "" {
		s += e.Where + ": "
	}
	s += e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the Kind sentinels and ErrUnsupported.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrFormat:
		return e.Kind == FormatFailure
	case ErrHash:
		return e.Kind == HashFailure
	case ErrSigCrypto:
		return e.Kind == SigCryptoFailure
	case ErrSignedDataNotFound:
		return e.Kind == SignedDataNotFound
	case ErrUnsupported:
		return e.Unsupported
	}
	return false
}

func formatErr(where, format string, args ...any) *Error {
	return &Error{Kind: FormatFailure, Where: where, Msg: fmt.Sprintf(format, args...)}
}

func unsupportedErr(where, format string, args ...any) *Error {
	return &Error{Kind: FormatFailure, Unsupported: true, Where: where, Msg: fmt.Sprintf(format, args...)}
}

// wrapFormat turns an error from a sub-package (parser, canonicalizer,
// XPath) into a format failure, keeping *Error values as they are.
func wrapFormat(where string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Where == "" {
			e.Where = where
		}
		return e
	}
	return &Error{Kind: FormatFailure, Where: where, Msg: "invalid", Err: err}
}
