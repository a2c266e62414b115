package xmldsig

import (
	"crypto"
	"errors"

	"github.com/beevik/etree"

	"esig/internal/xmldsig/c14n"
)

// EnvelopedReference is the Reference of an enveloped signature over the
// whole document (XMLDSig 1.1 section 6.6.4): URI "" with the
// enveloped-signature transform then refC14N (exclusive C14N if empty).
func EnvelopedReference(refC14N string, digest crypto.Hash) ReferenceSpec {
	if refC14N == "" {
		refC14N = c14n.ExcC14N
	}
	return ReferenceSpec{
		URI:        "",
		Transforms: []TransformSpec{{Algorithm: TransformEnveloped}, {Algorithm: refC14N}},
		Digest:     digest,
	}
}

// SignEnveloped signs doc in place with an enveloped signature appended as
// the last child of its root element, covering the whole document, plus any
// extra References (to Objects added later are not possible here; use a
// Builder for that). It returns the ds:Signature element.
func SignEnveloped(doc *etree.Document, opts SignOptions, refC14N string, extra ...ReferenceSpec) (*etree.Element, error) {
	root := doc.Root()
	if root == nil {
		return nil, errors.New("xmldsig: document has no root element")
	}
	b, err := NewBuilder(opts)
	if err != nil {
		return nil, err
	}
	if _, err := b.AddReference(EnvelopedReference(refC14N, opts.Hash)); err != nil {
		return nil, err
	}
	for _, r := range extra {
		if _, err := b.AddReference(r); err != nil {
			return nil, err
		}
	}
	root.AddChild(b.Element())
	if _, err := b.Sign(doc); err != nil {
		root.RemoveChild(b.Element())
		return nil, err
	}
	return b.Element(), nil
}

// SignEnveloping puts content in a ds:Object with Id objectID inside a new
// signature document and signs a Reference "#objectID" to it, canonicalized
// with refC14N (exclusive C14N if empty). mimeType, if set, becomes the
// Object's MimeType attribute.
func SignEnveloping(opts SignOptions, objectID, mimeType, refC14N string, content ...etree.Token) (*etree.Document, error) {
	if objectID == "" {
		return nil, errors.New("xmldsig: an enveloped Object needs an Id")
	}
	if refC14N == "" {
		refC14N = c14n.ExcC14N
	}
	b, err := NewBuilder(opts)
	if err != nil {
		return nil, err
	}
	obj := b.AddObject(objectID)
	if mimeType != "" {
		obj.CreateAttr("MimeType", mimeType)
	}
	for _, c := range content {
		obj.AddChild(c)
	}
	if _, err := b.AddReference(ReferenceSpec{URI: "#" + objectID, Type: TypeObject,
		Transforms: []TransformSpec{{Algorithm: refC14N}}, Digest: opts.Hash}); err != nil {
		return nil, err
	}
	return b.Sign(nil)
}

// SignDetached creates a standalone signature document over refs, which name
// external content (with its bytes in Detached). Same-document detached
// signatures (over sibling elements) are built with a Builder whose element
// is placed next to them.
func SignDetached(opts SignOptions, refs ...ReferenceSpec) (*etree.Document, error) {
	b, err := NewBuilder(opts)
	if err != nil {
		return nil, err
	}
	for _, r := range refs {
		if _, err := b.AddReference(r); err != nil {
			return nil, err
		}
	}
	return b.Sign(nil)
}
