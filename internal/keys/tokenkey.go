package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"esig/internal/pkcs11uri"
)

// parseKeyURI parses a pkcs11: reference that must name one private key.
func parseKeyURI(ref string) (*pkcs11uri.URI, error) {
	u, err := pkcs11uri.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if u.Type != "" && u.Type != pkcs11uri.TypePrivate {
		return nil, fmt.Errorf("keys: %s: type=%s, but a signer is a private key (type=private, or leave type out)", u, u.Type)
	}
	return u, nil
}

func openToken(ref string, opts Options) (crypto.Signer, error) {
	u, err := parseKeyURI(ref)
	if err != nil {
		return nil, err
	}
	if u.Object == "" && len(u.ID) == 0 {
		return nil, fmt.Errorf("keys: %s names no key: add object= (the key label) or id=", u)
	}
	t, err := reg.openTokenFor(u, opts)
	if err != nil {
		return nil, err
	}
	found, err := t.ctx.FindKeyPairs(u.ID, []byte(u.Object))
	if err != nil {
		return nil, fmt.Errorf("keys: searching %s for %s: %w", t.name(), u, err)
	}
	switch len(found) {
	case 0:
		if priv, _ := t.ctx.FindPrivateKey(u.ID, []byte(u.Object)); priv != nil {
			return nil, fmt.Errorf("keys: %s: %s holds the private key but neither its public key nor a certificate "+
				"with the same id and label, and a signer needs the public key", u, t.name())
		}
		return nil, fmt.Errorf("keys: %s: %w (%s)", u, ErrKeyNotFound, t.name())
	case 1:
	default:
		return nil, fmt.Errorf("keys: %s: %d keys on %s match; add id= to pick one", u, len(found), t.name())
	}
	return newTokenSigner(found[0], u)
}

func generateToken(kt KeyType, ref string, opts Options) (crypto.Signer, error) {
	u, err := parseKeyURI(ref)
	if err != nil {
		return nil, err
	}
	if u.Object == "" {
		return nil, fmt.Errorf("keys: %s: a new key needs object= (its label)", u)
	}
	t, err := reg.openTokenFor(u, opts)
	if err != nil {
		return nil, err
	}
	t.generateLock.Lock()
	defer t.generateLock.Unlock()

	id := u.ID
	if len(id) == 0 {
		id = make([]byte, 16)
		if _, err := rand.Read(id); err != nil {
			return nil, err
		}
	}
	if err := t.refuseExisting([]byte(u.Object), u.ID); err != nil {
		return nil, fmt.Errorf("keys: %s: %w", u, err)
	}

	pub, err := crypto11.NewAttributeSetWithIDAndLabel(id, []byte(u.Object))
	if err != nil {
		return nil, err
	}
	priv := pub.Copy()
	set := func(a crypto11.AttributeSet, typ crypto11.AttributeType, v any) {
		if err == nil {
			err = a.Set(typ, v)
		}
	}
	// The private half signs and does nothing else; it can never be read
	// out of the token, not even wrapped.
	set(priv, crypto11.CkaToken, true)
	set(priv, crypto11.CkaPrivate, true)
	set(priv, crypto11.CkaSensitive, true)
	set(priv, crypto11.CkaExtractable, false)
	set(priv, crypto11.CkaSign, true)
	set(priv, crypto11.CkaDerive, false)
	// The public half is public: readable without login, so tools can
	// list it and its certificate can be matched.
	set(pub, crypto11.CkaToken, true)
	set(pub, crypto11.CkaPrivate, false)
	set(pub, crypto11.CkaVerify, true)
	if kt.rsaBits() != 0 {
		set(priv, crypto11.CkaDecrypt, false)
		set(pub, crypto11.CkaEncrypt, false)
	}
	if err != nil {
		return nil, err
	}

	var key crypto11.Signer
	if c := kt.curve(); c != nil {
		key, err = t.ctx.GenerateECDSAKeyPairWithAttributes(pub, priv, c)
	} else {
		key, err = t.ctx.GenerateRSAKeyPairWithAttributes(pub, priv, kt.rsaBits())
	}
	if err != nil {
		return nil, fmt.Errorf("keys: generating %s key %s on %s: %w", kt, u, t.name(), err)
	}
	return newTokenSigner(key, u)
}

// refuseExisting fails when a private, public or secret key with the label
// or the id is already on the token: a second key under the same name would
// make every later Open ambiguous, or worse, pick the old key.
func (t *token) refuseExisting(label, id []byte) error {
	raw := t.mod.raw
	// Login state is per token per process, so this session sees the
	// private objects the context's login unlocked.
	sh, err := raw.OpenSession(t.slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return fmt.Errorf("opening a session on %s: %w", t.name(), err)
	}
	defer raw.CloseSession(sh)
	for _, attr := range []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
	} {
		if len(attr.Value) == 0 {
			continue
		}
		for _, class := range []uint{pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY, pkcs11.CKO_SECRET_KEY} {
			n, err := countObjects(raw, sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class), attr})
			if err != nil {
				return fmt.Errorf("searching %s: %w", t.name(), err)
			}
			if n > 0 {
				what := "label"
				if attr.Type == pkcs11.CKA_ID {
					what = "id"
				}
				return fmt.Errorf("%w: %s already holds a key with that %s", ErrKeyExists, t.name(), what)
			}
		}
	}
	return nil
}

func countObjects(raw *pkcs11.Ctx, sh pkcs11.SessionHandle, template []*pkcs11.Attribute) (int, error) {
	if err := raw.FindObjectsInit(sh, template); err != nil {
		return 0, err
	}
	objs, _, err := raw.FindObjects(sh, 1)
	if ferr := raw.FindObjectsFinal(sh); err == nil {
		err = ferr
	}
	return len(objs), err
}

// tokenSigner wraps a crypto11 key so that it behaves like the standard
// library's keys where crypto11 does not, and so that its errors say which
// key failed. It deliberately hides crypto11's Delete.
type tokenSigner struct {
	key  crypto11.Signer
	pub  crypto.PublicKey
	name string
}

func newTokenSigner(key crypto11.Signer, u *pkcs11uri.URI) (crypto.Signer, error) {
	pub := key.Public()
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return nil, fmt.Errorf("keys: %s: %w: ECDSA key on curve %s", u, ErrUnsupportedKey, k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("keys: %s: %w: RSA key of %d bits is too small (at least %d)", u, ErrUnsupportedKey, k.N.BitLen(), minRSABits)
		}
	default:
		return nil, fmt.Errorf("keys: %s: %w: %T", u, ErrUnsupportedKey, pub)
	}
	return &tokenSigner{key: key, pub: pub, name: describeKey(u)}, nil
}

// describeKey names a token key by token and object alone, leaving out
// module-path and PIN source: the name appears in errors and logs.
func describeKey(u *pkcs11uri.URI) string {
	s := "pkcs11:"
	sep := ""
	add := func(k, v string) {
		if v != "" {
			s += sep + k + "=" + pkcs11uri.Escape(v)
			sep = ";"
		}
	}
	add(pkcs11uri.AttrToken, u.Token)
	add(pkcs11uri.AttrSerial, u.Serial)
	add(pkcs11uri.AttrObject, u.Object)
	add(pkcs11uri.AttrID, string(u.ID))
	return s
}

// Public returns the public half, read from the token when the key was found.
func (s *tokenSigner) Public() crypto.PublicKey { return s.pub }

// String names the key for logs.
func (s *tokenSigner) String() string { return s.name }

// pkcs1Hashes are the digests the token can sign with PKCS#1 v1.5: crypto11
// builds the DigestInfo itself and knows only these. Any other hash would be
// signed without a DigestInfo, giving a signature nobody can verify.
var pkcs1Hashes = map[crypto.Hash]bool{
	crypto.SHA1: true, crypto.SHA224: true, crypto.SHA256: true, crypto.SHA384: true, crypto.SHA512: true,
}

// Sign signs digest on the token. For RSA-PSS, rsa.PSSSaltLengthAuto (which
// crypto11 refuses) is signed with a salt as long as the hash, which every
// PSS verifier that accepts "auto" accepts; that is also what crypto/x509
// asks for.
func (s *tokenSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		return nil, errors.New("keys: " + s.name + ": nil SignerOpts; pass the hash, such as crypto.SHA256")
	}
	if _, isRSA := s.pub.(*rsa.PublicKey); isRSA {
		h := opts.HashFunc()
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			if pss.SaltLength == rsa.PSSSaltLengthAuto {
				o := *pss
				o.SaltLength = rsa.PSSSaltLengthEqualsHash
				opts = &o
			}
		} else if h != 0 && !pkcs1Hashes[h] {
			return nil, fmt.Errorf("keys: %s: PKCS#1 v1.5 signing with %v is not supported on a token", s.name, h)
		}
		if h != 0 && len(digest) != h.Size() {
			return nil, fmt.Errorf("keys: %s: digest is %d bytes, but %v digests are %d", s.name, len(digest), h, h.Size())
		}
	}
	if len(digest) == 0 {
		return nil, errors.New("keys: " + s.name + ": empty digest")
	}
	sig, err := s.key.Sign(r, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("keys: signing with %s: %w", s.name, err)
	}
	return sig, nil
}
