// Package xpath evaluates the small subset of XPath 1.0 that real signers put
// in XPath Filter 2.0 transforms (XMLDSig Filter 2.0, section 3), and
// recognizes the one XPath transform expression accepted
// (not(ancestor-or-self::ds:Signature)).
//
// Supported: unions of location paths; absolute paths ("/", "//"); paths
// starting at id('x') or here(); the axes child, descendant,
// descendant-or-self, self, parent, ancestor, ancestor-or-self (and the
// abbreviations ".", "..", "//"); node tests QName, prefix:*, *, node(),
// text(), comment(), processing-instruction(); predicates [n], [last()],
// [name()='...'], [local-name()='...'], [namespace-uri()='...'], [@a] and
// [@a='...']. Anything else is refused with *UnsupportedError, so a
// signature whose coverage we cannot compute exactly is never accepted.
package xpath

import (
	"fmt"
	"strconv"
	"strings"
)

// UnsupportedError reports an expression outside the supported subset.
type UnsupportedError struct {
	Expr   string
	Reason string
}

// Error names the expression and why it is refused.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("xpath: unsupported expression %q: %s", e.Expr, e.Reason)
}

// Expr is a parsed expression.
type Expr struct {
	src   string
	paths []path
}

// String returns the expression as written.
func (e *Expr) String() string { return e.src }

type startKind int

const (
	startContext startKind = iota // relative path
	startRoot                     // "/"
	startID                       // id('x')
	startHere                     // here()
)

type path struct {
	start startKind
	id    string
	steps []step
}

type axis int

const (
	axisChild axis = iota
	axisDescendant
	axisDescendantOrSelf
	axisSelf
	axisParent
	axisAncestor
	axisAncestorOrSelf
)

var axes = map[string]axis{
	"child": axisChild, "descendant": axisDescendant, "descendant-or-self": axisDescendantOrSelf,
	"self": axisSelf, "parent": axisParent, "ancestor": axisAncestor, "ancestor-or-self": axisAncestorOrSelf,
}

type testKind int

const (
	testName    testKind = iota // prefix:local, or local in no namespace
	testAnyName                 // *
	testNSName                  // prefix:*
	testNode                    // node()
	testText                    // text()
	testComment                 // comment()
	testPI                      // processing-instruction()
)

type step struct {
	axis   axis
	test   testKind
	prefix string
	local  string
	preds  []pred
}

type predKind int

const (
	predPosition predKind = iota
	predLast
	predName
	predLocalName
	predNamespaceURI
	predHasAttr
	predAttrEquals
)

type pred struct {
	kind   predKind
	pos    int
	value  string
	prefix string // attribute prefix for predHasAttr/predAttrEquals
	local  string
}

// Parse parses src, refusing anything outside the supported subset.
func Parse(src string) (*Expr, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, &UnsupportedError{src, err.Error()}
	}
	p := &parser{src: src, toks: toks}
	e := &Expr{src: src}
	for {
		pa, err := p.path()
		if err != nil {
			return nil, err
		}
		e.paths = append(e.paths, pa)
		if p.peek() != "|" {
			break
		}
		p.next()
	}
	if p.peek() != "" {
		return nil, p.fail("unexpected %q", p.peek())
	}
	return e, nil
}

type parser struct {
	src  string
	toks []string
	i    int
}

func (p *parser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *parser) next() string { t := p.peek(); p.i++; return t }

func (p *parser) fail(format string, args ...any) error {
	return &UnsupportedError{p.src, fmt.Sprintf(format, args...)}
}

func (p *parser) expect(t string) error {
	if got := p.next(); got != t {
		return p.fail("expected %q, found %q", t, got)
	}
	return nil
}

func (p *parser) path() (path, error) {
	var pa path
	switch t := p.peek(); {
	case t == "/":
		p.next()
		pa.start = startRoot
		if !startsStep(p.peek()) {
			return pa, nil
		}
	case t == "//":
		p.next()
		pa.start = startRoot
		pa.steps = append(pa.steps, step{axis: axisDescendantOrSelf, test: testNode})
	case t == "id" && p.lookahead(1) == "(":
		p.i += 2
		lit := p.next()
		if !isLiteral(lit) {
			return pa, p.fail("id() takes one string literal")
		}
		if err := p.expect(")"); err != nil {
			return pa, err
		}
		pa.start, pa.id = startID, unquote(lit)
		if !p.slashNext(&pa) {
			return pa, nil
		}
	case t == "here" && p.lookahead(1) == "(":
		p.i += 2
		if err := p.expect(")"); err != nil {
			return pa, err
		}
		pa.start = startHere
		if !p.slashNext(&pa) {
			return pa, nil
		}
	default:
		pa.start = startContext
	}
	for {
		s, err := p.step()
		if err != nil {
			return pa, err
		}
		pa.steps = append(pa.steps, s)
		if !p.slashNext(&pa) {
			return pa, nil
		}
	}
}

// slashNext consumes a "/" or "//" separator, adding the implicit step of
// "//", and reports whether one was there.
func (p *parser) slashNext(pa *path) bool {
	switch p.peek() {
	case "/":
		p.next()
		return true
	case "//":
		p.next()
		pa.steps = append(pa.steps, step{axis: axisDescendantOrSelf, test: testNode})
		return true
	}
	return false
}

func (p *parser) lookahead(n int) string {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return ""
}

func startsStep(t string) bool {
	return t == "." || t == ".." || t == "*" || t == "@" || isName(t)
}

func (p *parser) step() (step, error) {
	switch p.peek() {
	case ".":
		p.next()
		return step{axis: axisSelf, test: testNode}, nil
	case "..":
		p.next()
		return step{axis: axisParent, test: testNode}, nil
	case "@":
		return step{}, p.fail("the attribute axis is not supported")
	}
	s := step{axis: axisChild}
	if p.lookahead(1) == "::" {
		name := p.next()
		a, ok := axes[name]
		if !ok {
			return s, p.fail("axis %q is not supported", name)
		}
		s.axis = a
		p.next()
	}
	t := p.next()
	switch {
	case t == "*":
		s.test = testAnyName
	case isName(t) && p.peek() == "(":
		p.next()
		if err := p.expect(")"); err != nil {
			return s, err
		}
		switch t {
		case "node":
			s.test = testNode
		case "text":
			s.test = testText
		case "comment":
			s.test = testComment
		case "processing-instruction":
			s.test = testPI
		default:
			return s, p.fail("node test %s() is not supported", t)
		}
	case isName(t):
		prefix, local := splitQName(t)
		if local == "*" {
			s.test, s.prefix = testNSName, prefix
		} else {
			s.test, s.prefix, s.local = testName, prefix, local
		}
	default:
		return s, p.fail("node test expected, found %q", t)
	}
	for p.peek() == "[" {
		p.next()
		pr, err := p.predicate()
		if err != nil {
			return s, err
		}
		if err := p.expect("]"); err != nil {
			return s, err
		}
		s.preds = append(s.preds, pr)
	}
	return s, nil
}

func (p *parser) predicate() (pred, error) {
	t := p.next()
	if n, err := strconv.Atoi(t); err == nil && n > 0 {
		return pred{kind: predPosition, pos: n}, nil
	}
	if t == "@" {
		name := p.next()
		if !isName(name) || strings.HasSuffix(name, "*") {
			return pred{}, p.fail("attribute name expected after @")
		}
		prefix, local := splitQName(name)
		if p.peek() != "=" {
			return pred{kind: predHasAttr, prefix: prefix, local: local}, nil
		}
		p.next()
		lit := p.next()
		if !isLiteral(lit) {
			return pred{}, p.fail("string literal expected after @%s=", name)
		}
		return pred{kind: predAttrEquals, prefix: prefix, local: local, value: unquote(lit)}, nil
	}
	fn := map[string]predKind{"name": predName, "local-name": predLocalName, "namespace-uri": predNamespaceURI, "last": predLast}
	k, ok := fn[t]
	if !ok || p.peek() != "(" {
		return pred{}, p.fail("predicate %q is not supported", t)
	}
	p.next()
	if err := p.expect(")"); err != nil {
		return pred{}, err
	}
	if k == predLast {
		return pred{kind: predLast}, nil
	}
	if err := p.expect("="); err != nil {
		return pred{}, err
	}
	lit := p.next()
	if !isLiteral(lit) {
		return pred{}, p.fail("string literal expected after %s()=", t)
	}
	return pred{kind: k, value: unquote(lit)}, nil
}

// lex splits an expression into tokens: names (QNames, possibly ending in
// ":*"), literals with their quotes, numbers, and punctuation.
func lex(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated literal")
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		case strings.HasPrefix(s[i:], "//"), strings.HasPrefix(s[i:], "::"), strings.HasPrefix(s[i:], ".."):
			toks = append(toks, s[i:i+2])
			i += 2
		case strings.IndexByte("/()[]@|=*.", c) >= 0:
			toks = append(toks, s[i:i+1])
			i++
		case isNameByte(c):
			j := i
			for j < len(s) && (isNameByte(s[j]) || (s[j] == ':' && j+1 < len(s) && s[j+1] != ':' && (isNameByte(s[j+1]) || s[j+1] == '*'))) {
				if s[j] == ':' && s[j+1] == '*' {
					j += 2
					break
				}
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", c)
		}
	}
	return toks, nil
}

func isNameByte(c byte) bool {
	return c >= 0x80 || c == '_' || c == '-' || c == '.' ||
		(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

func isName(t string) bool {
	if t == "" || t == "." || t == ".." {
		return false
	}
	c := t[0]
	return c >= 0x80 || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isLiteral(t string) bool {
	return len(t) >= 2 && (t[0] == '"' || t[0] == '\'') && t[len(t)-1] == t[0]
}

func unquote(t string) string { return t[1 : len(t)-1] }

func splitQName(n string) (prefix, local string) {
	if i := strings.IndexByte(n, ':'); i >= 0 {
		return n[:i], n[i+1:]
	}
	return "", n
}
