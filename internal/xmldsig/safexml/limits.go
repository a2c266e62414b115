package safexml

import "fmt"

// Limits bound what Parse will build, so that a hostile document costs a
// bounded amount of time and memory before it is refused. A zero field means
// "use the default".
type Limits struct {
	// MaxBytes is the largest input accepted, in bytes (default 64 MiB).
	MaxBytes int64
	// MaxDepth is the deepest element nesting accepted (default 256). It is
	// checked as each start tag is read, before the element is built, so a
	// nesting bomb is refused after MaxDepth elements whatever its size.
	MaxDepth int
	// MaxNodes bounds elements, text runs, comments and processing
	// instructions together (default 4 Mi). Each node costs a few hundred
	// bytes of tree, so this is what bounds memory for inputs made of tiny
	// elements.
	MaxNodes int
	// MaxAttributes bounds attributes (declarations included) on one element
	// (default 256).
	MaxAttributes int
}

// Default values of Limits, chosen to admit every real signed document seen
// so far (the largest real XAdES documents are tens of megabytes of base64)
// while refusing synthetic bombs quickly.
const (
	DefaultMaxBytes      = 64 << 20
	DefaultMaxDepth      = 256
	DefaultMaxNodes      = 4 << 20
	DefaultMaxAttributes = 256
)

// WithDefaults returns l with every zero or negative field replaced by its
// default.
func (l Limits) WithDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = DefaultMaxNodes
	}
	if l.MaxAttributes <= 0 {
		l.MaxAttributes = DefaultMaxAttributes
	}
	return l
}

// LimitError reports that the input exceeded one of the Limits.
type LimitError struct {
	Limit string // name of the Limits field
	Max   int64  // the configured maximum
	Line  int    // line where it was exceeded (0 for MaxBytes)
}

// Error names the limit exceeded and where.
func (e *LimitError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("xml: line %d: document exceeds %s=%d", e.Line, e.Limit, e.Max)
	}
	return fmt.Sprintf("xml: document exceeds %s=%d", e.Limit, e.Max)
}
