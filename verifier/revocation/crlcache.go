package revocation

import (
	"crypto/sha256"
	"sync"
)

// CRLCache keeps parsed CRLs by the SHA-256 of their DER, for the checkers
// of many verifications to share. Parsing a national CA's CRL of 100,000
// entries takes about a tenth of a second, two hundred times the rest of a
// verification: a batch that gives each file its own engine must not parse
// a CRL fetched once, or embedded in every signature, once per file (CRL
// files are better parsed up front with ParseCRL, which spares even the
// hashing). It holds every CRL it has parsed for as long as it lives, so
// make one per run. It is safe for concurrent use; a nil *CRLCache parses
// every time.
type CRLCache struct {
	mu sync.Mutex
	m  map[[32]byte]*cachedCRL
}

type cachedCRL struct {
	once sync.Once
	p    *parsedCRL
	err  error
}

// NewCRLCache returns an empty cache.
func NewCRLCache() *CRLCache { return &CRLCache{m: map[[32]byte]*cachedCRL{}} }

// parse returns the parsed CRL whose DER der has the digest key, parsing
// it only the first time it is asked for.
func (c *CRLCache) parse(key [32]byte, der []byte) (*parsedCRL, error) {
	if c == nil {
		return parseCRL(der)
	}
	c.mu.Lock()
	e := c.m[key]
	if e == nil {
		e = &cachedCRL{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.p, e.err = parseCRL(der) })
	return e.p, e.err
}

// Len is the number of CRLs the cache holds.
func (c *CRLCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// CRL is a CRL parsed once, to be added to many checkers with
// AddParsedCRL: CRL files named for a batch are parsed (and hashed) once
// for all its engines rather than once per file.
type CRL struct {
	key [32]byte
	raw []byte
	p   *parsedCRL
}

// ParseCRL parses a DER CRL (PEM is accepted too) for AddParsedCRL.
func ParseCRL(der []byte) (*CRL, error) {
	der = pemOrDER(der, "X509 CRL")
	p, err := parseCRL(der)
	if err != nil {
		return nil, err
	}
	return &CRL{key: sha256.Sum256(der), raw: der, p: p}, nil
}

// AddParsedCRL adds a CRL parsed by ParseCRL, as AddCRL would add its DER.
func (c *Checker) AddParsedCRL(x *CRL, o Origin) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, dup := c.origins[x.key]; dup {
		return
	}
	c.origins[x.key] = o
	c.crls = append(c.crls, &crl{parsedCRL: x.p, raw: x.raw, origin: o})
}
