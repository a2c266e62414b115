package xpath

import (
	"fmt"
	"slices"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/xmlns"
)

// Context is what an expression is evaluated against.
type Context struct {
	// Document is the document node (the Element embedded in an
	// etree.Document); "/" selects it.
	Document *etree.Element
	// Here is the element holding the expression, returned by here() and
	// the source of the namespace bindings of prefixes in it (XMLDSig
	// section 6.6.3).
	Here *etree.Element
	// ID resolves id('x'); it returns nil for an unknown identifier and an
	// error for an ambiguous one.
	ID func(string) (*etree.Element, error)
}

// Eval evaluates e and returns the selected nodes (elements, the document
// node, text, comments and processing instructions), each once.
func (e *Expr) Eval(ctx Context) ([]etree.Token, error) {
	seen := make(map[etree.Token]bool)
	var out []etree.Token
	for _, pa := range e.paths {
		var cur []etree.Token
		switch pa.start {
		case startRoot:
			cur = []etree.Token{ctx.Document}
		case startHere:
			cur = []etree.Token{ctx.Here}
		case startContext:
			// Filter 2.0 evaluates with the document root as context node.
			cur = []etree.Token{ctx.Document}
		case startID:
			el, err := ctx.ID(pa.id)
			if err != nil {
				return nil, err
			}
			if el != nil {
				cur = []etree.Token{el}
			}
		}
		for _, s := range pa.steps {
			next, err := s.apply(cur, ctx, e.src)
			if err != nil {
				return nil, err
			}
			cur = next
		}
		for _, t := range cur {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out, nil
}

func (s step) apply(in []etree.Token, ctx Context, src string) ([]etree.Token, error) {
	var uri string
	if s.test == testName || s.test == testNSName {
		if s.prefix != "" {
			u, ok := xmlns.Lookup(ctx.Here, s.prefix)
			if !ok {
				return nil, &UnsupportedError{src, fmt.Sprintf("prefix %q is not declared on the XPath element", s.prefix)}
			}
			uri = u
		}
	}
	seen := make(map[etree.Token]bool)
	var out []etree.Token
	for _, n := range in {
		cand := s.axisNodes(n)
		matched := cand[:0:0]
		for _, c := range cand {
			if s.matches(c, uri) {
				matched = append(matched, c)
			}
		}
		for _, pr := range s.preds {
			var err error
			matched, err = pr.filter(matched, ctx, src)
			if err != nil {
				return nil, err
			}
		}
		for _, c := range matched {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// axisNodes lists the nodes on s.axis from n, in axis order (reverse
// document order for the ancestor axes), as positional predicates need.
func (s step) axisNodes(n etree.Token) []etree.Token {
	var out []etree.Token
	switch s.axis {
	case axisSelf:
		out = append(out, n)
	case axisChild:
		if e, ok := n.(*etree.Element); ok {
			out = append(out, dataChildren(e)...)
		}
	case axisDescendant, axisDescendantOrSelf:
		if s.axis == axisDescendantOrSelf {
			out = append(out, n)
		}
		if e, ok := n.(*etree.Element); ok {
			out = descendants(e, out)
		}
	case axisParent:
		if p := n.Parent(); p != nil {
			out = append(out, p)
		}
	case axisAncestor, axisAncestorOrSelf:
		if s.axis == axisAncestorOrSelf {
			out = append(out, n)
		}
		for p := n.Parent(); p != nil; p = p.Parent() {
			out = append(out, p)
		}
	}
	return out
}

// dataChildren returns the children of e that are XPath nodes: the parser
// never keeps the XML declaration or directives, but trees built in code may.
func dataChildren(e *etree.Element) []etree.Token {
	out := make([]etree.Token, 0, len(e.Child))
	for _, c := range e.Child {
		switch c.(type) {
		case *etree.Element, *etree.CharData, *etree.Comment, *etree.ProcInst:
			out = append(out, c)
		}
	}
	return out
}

func descendants(e *etree.Element, out []etree.Token) []etree.Token {
	for _, c := range dataChildren(e) {
		out = append(out, c)
		if ce, ok := c.(*etree.Element); ok {
			out = descendants(ce, out)
		}
	}
	return out
}

func isDocNode(t etree.Token) bool {
	e, ok := t.(*etree.Element)
	return ok && e.Parent() == nil && e.Tag == ""
}

func (s step) matches(t etree.Token, uri string) bool {
	switch s.test {
	case testNode:
		return true
	case testText:
		_, ok := t.(*etree.CharData)
		return ok
	case testComment:
		_, ok := t.(*etree.Comment)
		return ok
	case testPI:
		_, ok := t.(*etree.ProcInst)
		return ok
	}
	e, ok := t.(*etree.Element)
	if !ok || isDocNode(t) {
		return false
	}
	switch s.test {
	case testAnyName:
		return true
	case testNSName:
		return xmlns.ElementURI(e) == uri
	default:
		return e.Tag == s.local && xmlns.ElementURI(e) == uri
	}
}

func (pr pred) filter(in []etree.Token, ctx Context, src string) ([]etree.Token, error) {
	switch pr.kind {
	case predPosition:
		if pr.pos <= len(in) {
			return in[pr.pos-1 : pr.pos], nil
		}
		return nil, nil
	case predLast:
		if len(in) > 0 {
			return in[len(in)-1:], nil
		}
		return nil, nil
	}
	var attrURI string
	if (pr.kind == predHasAttr || pr.kind == predAttrEquals) && pr.prefix != "" {
		u, ok := xmlns.Lookup(ctx.Here, pr.prefix)
		if !ok {
			return nil, &UnsupportedError{src, fmt.Sprintf("prefix %q is not declared on the XPath element", pr.prefix)}
		}
		attrURI = u
	}
	return slices.DeleteFunc(slices.Clone(in), func(t etree.Token) bool {
		e, ok := t.(*etree.Element)
		if !ok || isDocNode(t) {
			// name() and friends of a text node are "", of no attribute.
			return !(pr.kind == predName || pr.kind == predLocalName || pr.kind == predNamespaceURI) || pr.value != ""
		}
		switch pr.kind {
		case predName:
			return e.FullTag() != pr.value
		case predLocalName:
			return e.Tag != pr.value
		case predNamespaceURI:
			return xmlns.ElementURI(e) != pr.value
		}
		for i := range e.Attr {
			a := &e.Attr[i]
			if a.Key != pr.local || xmlns.IsDecl(a) || xmlns.AttrURI(e, a) != attrURI {
				continue
			}
			return pr.kind == predAttrEquals && a.Value != pr.value
		}
		return true
	}), nil
}
