package xmldsig

import (
	"github.com/beevik/etree"

	"esig/internal/xmldsig/c14n"
	"esig/internal/xmldsig/xpath"
)

// nodeSet is an XPath node-set over one tree, in the shape the supported
// transforms produce (XMLDSig 1.1 section 4.4.3.2): the nodes of the subtree
// of top, with or without comments, from which transforms successively keep
// only some nodes. Every condition is conjunctive (each transform's output is
// a subset of its input), so the set is the intersection of all of them.
type nodeSet struct {
	doc      *etree.Element // document node
	top      *etree.Element // apex; the document node for the whole document
	comments bool
	// removed are subtrees taken out (enveloped-signature).
	removed []*etree.Element
	// exclusions are XPath transforms not(ancestor-or-self::p:L).
	exclusions []xpath.Exclusion
	// filters are XPath Filter 2.0 transforms, each a sequence of set
	// operations.
	filters [][]filterOp
	// lookupID resolves identifiers in the tree (for id() in filters).
	lookupID func(string) (*etree.Element, error)
}

type filterOp struct {
	op  string // intersect, subtract, union
	set map[etree.Token]bool
}

func (s *nodeSet) clone() *nodeSet {
	c := *s
	c.removed = append([]*etree.Element(nil), s.removed...)
	c.exclusions = append([]xpath.Exclusion(nil), s.exclusions...)
	c.filters = append([][]filterOp(nil), s.filters...)
	return &c
}

// Contains implements c14n.NodeSet.
func (s *nodeSet) Contains(t etree.Token) bool {
	if _, ok := t.(*etree.Comment); ok && !s.comments {
		return false
	}
	// Ancestor-or-self chain, self first.
	var chainBuf [32]etree.Token
	chain := chainBuf[:0]
	inTop := false
	for n := t; n != nil; {
		chain = append(chain, n)
		if e, ok := n.(*etree.Element); ok && e == s.top {
			inTop = true
		}
		p := n.Parent()
		if p == nil {
			break
		}
		n = p
	}
	if !inTop {
		return false
	}
	for _, n := range chain {
		e, ok := n.(*etree.Element)
		if !ok {
			continue
		}
		for _, r := range s.removed {
			if e == r {
				return false
			}
		}
		for _, x := range s.exclusions {
			if x.Excludes(e) {
				return false
			}
		}
	}
	for _, ops := range s.filters {
		if !filterKeeps(ops, chain) {
			return false
		}
	}
	return true
}

// filterKeeps evaluates one XPath Filter 2.0 transform for a node given its
// ancestor-or-self chain: the filter node-set starts as every node of the
// document and each operation intersects, subtracts or unions the subtree
// expansion of its XPath result (XPath Filter 2.0 section 3.4).
func filterKeeps(ops []filterOp, chain []etree.Token) bool {
	keep := true
	for _, op := range ops {
		in := false
		for _, n := range chain {
			if op.set[n] {
				in = true
				break
			}
		}
		switch op.op {
		case "intersect":
			keep = keep && in
		case "subtract":
			keep = keep && !in
		case "union":
			keep = keep || in
		}
	}
	return keep
}

// Prune implements c14n.Pruner: a removed or excluded element takes its
// whole subtree with it, whatever later transforms say, because every
// transform only narrows its input.
func (s *nodeSet) Prune(e *etree.Element) bool {
	for _, r := range s.removed {
		if e == r {
			return true
		}
	}
	for _, x := range s.exclusions {
		if x.Excludes(e) {
			return true
		}
	}
	return false
}

// whole reports whether the set is the entire subtree of top (comments
// aside), the common case for #id references and what makes Content.Element
// meaningful.
func (s *nodeSet) whole() bool {
	return len(s.removed) == 0 && len(s.exclusions) == 0 && len(s.filters) == 0
}

var _ c14n.Pruner = (*nodeSet)(nil)

// textValue returns the string-value of the text nodes of the set in
// document order, the base64 transform's input for a node-set (XMLDSig 1.1
// section 6.6.2).
func (s *nodeSet) textValue() []byte {
	var out []byte
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if s.Prune(e) {
			return
		}
		for _, c := range e.Child {
			switch n := c.(type) {
			case *etree.Element:
				walk(n)
			case *etree.CharData:
				if s.Contains(n) {
					out = append(out, n.Data...)
				}
			}
		}
	}
	walk(s.top)
	return out
}
