package xpath

import (
	"regexp"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/xmlns"
)

var exclusionForm = regexp.MustCompile(`^\s*not\s*\(\s*ancestor-or-self\s*::\s*([A-Za-z_][\w.-]*)\s*:\s*([A-Za-z_][\w.-]*)\s*\)\s*$`)

// Exclusion is the XPath transform expression not(ancestor-or-self::p:L),
// the only one accepted (it is what Polish signers emit with p bound to the
// XMLDSig namespace). Evaluated for each node of the input (XMLDSig section
// 6.6.3), it keeps the nodes that are not inside any element named {URI}L.
type Exclusion struct {
	URI, Local string
}

// ParseExclusion recognizes the accepted form in expr, resolving its prefix
// against the namespace bindings in scope at here (the XPath element). Any
// other expression is refused with *UnsupportedError.
func ParseExclusion(expr string, here *etree.Element) (Exclusion, error) {
	m := exclusionForm.FindStringSubmatch(expr)
	if m == nil {
		return Exclusion{}, &UnsupportedError{expr, "only not(ancestor-or-self::prefix:Name) is accepted in an XPath transform"}
	}
	uri, ok := xmlns.Lookup(here, m[1])
	if !ok {
		return Exclusion{}, &UnsupportedError{expr, "prefix " + m[1] + " is not declared on the XPath element"}
	}
	return Exclusion{URI: uri, Local: m[2]}, nil
}

// Excludes reports whether e is an element the expression names; every node
// in its subtree evaluates to false.
func (x Exclusion) Excludes(e *etree.Element) bool {
	return e.Tag == x.Local && xmlns.ElementURI(e) == x.URI
}
