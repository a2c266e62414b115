package hierarchy

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// The root signs a CRL of its own (an ARL) covering the issuing CA. It is
// signed while the root key is at hand (at creation, and when renewed with
// RenewRootCRL) and valid for a year, as usual for an offline root.
const (
	rootCRLName     = "root.crl"
	rootCRLValidity = 365 * 24 * time.Hour
	rootCRLRenew    = 60 * 24 * time.Hour
)

func signRootCRL(dir string, root *x509.Certificate, key crypto.Signer, now time.Time) (*x509.RevocationList, error) {
	number := big.NewInt(1)
	if prev, err := ReadRootCRL(dir); err == nil {
		number.Add(prev.Number, big.NewInt(1))
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: number, ThisUpdate: now, NextUpdate: now.Add(rootCRLValidity),
	}, root, key)
	if err != nil {
		return nil, fmt.Errorf("ca: signing the root CRL: %w", err)
	}
	tmp := filepath.Join(dir, rootCRLName+".tmp")
	if err := os.WriteFile(tmp, der, 0o644); err != nil {
		return nil, fmt.Errorf("ca: writing the root CRL: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, rootCRLName)); err != nil {
		return nil, err
	}
	return x509.ParseRevocationList(der)
}

// ReadRootCRL loads the root's CRL from a CA directory.
func ReadRootCRL(dir string) (*x509.RevocationList, error) {
	der, err := os.ReadFile(filepath.Join(dir, rootCRLName))
	if err != nil {
		return nil, fmt.Errorf("ca: root CRL: %w", err)
	}
	return x509.ParseRevocationList(der)
}

// RootCRLDue reports whether the root CRL expires within the renewal window.
func (h *Hierarchy) RootCRLDue(now time.Time) bool {
	c, err := ReadRootCRL(h.Dir)
	return err != nil || now.Add(rootCRLRenew).After(c.NextUpdate)
}

// RenewRootCRL signs a fresh root CRL with the root key.
func (h *Hierarchy) RenewRootCRL(opts Options, now time.Time) (*x509.RevocationList, error) {
	key, err := h.OpenKey(opts, RoleRoot)
	if err != nil {
		return nil, err
	}
	return signRootCRL(h.Dir, h.Root, key, now.UTC().Truncate(time.Second))
}

// RootCRLDER returns the root's current CRL as DER, as the server
// publishes it at RootCRLPath.
func (h *Hierarchy) RootCRLDER() ([]byte, error) {
	der, err := os.ReadFile(filepath.Join(h.Dir, rootCRLName))
	if err != nil {
		return nil, fmt.Errorf("ca: root CRL: %w", err)
	}
	return der, nil
}
