// Package app assembles a running CA from its configuration: the store, the
// CA hierarchy (created on first start), the issuer, the CRL publisher, the
// OCSP responder and the service certificates. esig serve, the ca commands
// and the end-to-end tests all build the CA here, so they cannot drift
// apart.
package app

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"esig/ca"
	"esig/ca/audit"
	"esig/ca/crl"
	"esig/ca/hierarchy"
	"esig/ca/issuance"
	"esig/ca/ocspresp"
	"esig/ca/store"
	"esig/ca/store/engines"
	"esig/ca/tsa"
	"esig/intake"
	"esig/internal/config"
	"esig/internal/keys"
	"esig/internal/pkcs11uri"
	"esig/ra"
)

// App is an assembled CA.
type App struct {
	Config    config.Config
	Log       *slog.Logger
	Store     store.Full
	Hierarchy *hierarchy.Hierarchy
	Authority *ca.Authority
	CRL       *crl.Publisher
	OCSP      *ocspresp.Responder
	// Service certificates and keys of the CA's own responders.
	OCSPCert *x509.Certificate
	TSACert  *x509.Certificate
	TSA      *tsa.TSA
	RA       *ra.RA
	Webhooks *ra.Dispatcher
	Intake   *intake.Service
	// CreatedCA is true when this Open made a new CA.
	CreatedCA bool
}

// URLs derived from the base URL; certificates carry them.
func ocspURL(base string) string      { return base + "/ocsp" }
func caIssuersURL(base string) string { return base + "/ca/issuing.crt" }

// CRLURL is the address of a CRL shard under base.
func CRLURL(base string, shard int) string { return fmt.Sprintf("%s/crl/%d.crl", base, shard) }

// Open assembles the CA described by cfg, creating the data directory and
// the CA on first start. cfg.BaseURL must be set (serve derives it from the
// listen address).
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	if err := cfg.Resolve(); err != nil {
		return nil, err
	}
	if cfg.BaseURL == "" {
		return nil, errors.New("app: no base URL for the addresses written into certificates")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := engines.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Store: st}
	if err := a.open(ctx); err != nil {
		st.Close()
		keys.CloseAll()
		return nil, err
	}
	return a, nil
}

// HierarchyOptions is how a resolved configuration asks for its CA
// directory to be created or opened.
func HierarchyOptions(cfg config.Config) (hierarchy.Options, error) {
	kt, err := keys.ParseKeyType(cfg.CA.KeyType)
	if err != nil {
		return hierarchy.Options{}, fmt.Errorf("ca.keyType: %w", err)
	}
	pin := cfg.CA.PIN
	if pin == "" && cfg.CA.HSM != "" {
		// The manifest keeps token URIs without their PIN; a PIN given in
		// the configured URI opens every key on that token.
		u, err := pkcs11uri.Parse(cfg.CA.HSM)
		if err != nil {
			return hierarchy.Options{}, fmt.Errorf("ca.hsm: %w", err)
		}
		pin = u.PINValue()
	}
	return hierarchy.Options{
		Dir: cfg.CA.Dir, KeyType: kt, HSM: cfg.CA.HSM,
		Passphrase: []byte(cfg.CA.Passphrase), PIN: pin,
		Organization: cfg.CA.Organization, Country: cfg.CA.Country, BaseURL: cfg.BaseURL,
	}, nil
}

func (a *App) open(ctx context.Context) error {
	cfg := a.Config
	hopts, err := HierarchyOptions(cfg)
	if err != nil {
		return err
	}
	if !hierarchy.Exists(cfg.CA.Dir) {
		if err := InitCA(ctx, a.Store, hopts, "system"); err != nil {
			return err
		}
		a.CreatedCA = true
		a.Log.Info("created a new CA", "dir", cfg.CA.Dir, "keyType", hopts.KeyType, "hsm", cfg.CA.HSM != "")
	}
	if a.Hierarchy, err = hierarchy.Load(hopts); err != nil {
		return err
	}
	if a.Hierarchy.RootCRLDue(time.Now()) {
		if _, err := a.Hierarchy.RenewRootCRL(hopts, time.Now()); err != nil {
			a.Log.Warn("the root CRL is due for renewal but the root key is not available", "err", err)
		}
	}
	profiles, err := Profiles(cfg.Profiles)
	if err != nil {
		return err
	}
	issuer, err := issuance.NewIssuer(issuance.IssuerConfig{
		Cert: a.Hierarchy.Issuing, Signer: a.Hierarchy.Signer, Country: cfg.CA.Country, Backdate: time.Minute,
		OCSPURL: ocspURL(cfg.BaseURL), CAIssuersURL: caIssuersURL(cfg.BaseURL),
		CRLURL: func(shard int) string { return CRLURL(cfg.BaseURL, shard) },
	})
	if err != nil {
		return err
	}
	a.CRL, err = crl.New(crl.Config{
		Store: a.Store, Issuer: a.Hierarchy.Issuing, Signer: a.Hierarchy.Signer, Shards: cfg.CRL.Shards,
		Validity: cfg.CRL.Validity, URL: func(shard int) string { return CRLURL(cfg.BaseURL, shard) }, Log: a.Log,
		LeaseTTL: cfg.CRL.LeaseTTL,
	})
	if err != nil {
		return err
	}
	a.Authority, err = ca.New(ca.Config{Store: a.Store, Issuer: issuer, Profiles: profiles, CRL: a.CRL, Log: a.Log})
	if err != nil {
		return err
	}
	ocspSigner, err := a.serviceCertificate(ctx, hopts, hierarchy.RoleOCSP, issuance.ProfileOCSP, "OCSP Responder")
	if err != nil {
		return err
	}
	tsaSigner, err := a.serviceCertificate(ctx, hopts, hierarchy.RoleTSA, issuance.ProfileTSA, "Time-Stamping Authority")
	if err != nil {
		return err
	}
	if a.OCSPCert, err = hierarchy.ReadCertificate(cfg.CA.Dir, hierarchy.RoleOCSP); err != nil {
		return err
	}
	if a.TSACert, err = hierarchy.ReadCertificate(cfg.CA.Dir, hierarchy.RoleTSA); err != nil {
		return err
	}
	a.OCSP, err = ocspresp.New(ocspresp.Config{
		Store: a.Store, Issuer: a.Hierarchy.Issuing, Responder: a.OCSPCert, Signer: ocspSigner,
		Validity: cfg.OCSP.Validity, MaxCached: cfg.OCSP.MaxCached, Log: a.Log,
	})
	if err != nil {
		return err
	}
	a.Authority.SetInvalidator(a.OCSP)
	policy, err := parseOID(cfg.TSA.Policy)
	if err != nil {
		return fmt.Errorf("tsa.policy: %w", err)
	}
	if a.TSA, err = tsa.New(tsaSigner, a.TSACert, []*x509.Certificate{a.Hierarchy.Issuing, a.Hierarchy.Root}, policy, nil); err != nil {
		return err
	}
	secret, err := loadOrCreateSecret(cfg.RA.SecretFile)
	if err != nil {
		return err
	}
	a.RA, err = ra.New(ra.Config{
		Store: a.Store, Authority: a.Authority, Profiles: profiles, Country: cfg.CA.Country, Secret: secret,
		ApplicationTTL: cfg.RA.ApplicationTTL, TokenTTL: cfg.RA.TokenTTL, Log: a.Log,
	})
	if err != nil {
		return err
	}
	a.Webhooks = ra.NewDispatcher(a.RA)
	iv, err := newIdentityVerifier(ctx, cfg.RA)
	if err != nil {
		return err
	}
	a.RA.SetVerifier(iv)
	receiptSigner, err := a.serviceCertificate(ctx, hopts, hierarchy.RoleReceipt, issuance.ProfileReceiptSeal, "Receipts")
	if err != nil {
		return err
	}
	receiptCert, err := hierarchy.ReadCertificate(cfg.CA.Dir, hierarchy.RoleReceipt)
	if err != nil {
		return err
	}
	a.Intake, err = intake.New(intake.Config{
		Store: a.Store, Verify: iv.VerifyReport, Signer: receiptSigner, Cert: receiptCert,
		Chain: []*x509.Certificate{a.Hierarchy.Issuing, a.Hierarchy.Root}, Timestamper: a.TSA,
	})
	return err
}

// loadOrCreateSecret reads the RA secret, making a random one (mode 0600)
// on first start.
func loadOrCreateSecret(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("ra.secretFile: %w", err)
		}
		defer f.Close()
		if _, err := f.WriteString(hex.EncodeToString(b) + "\n"); err != nil {
			return nil, fmt.Errorf("ra.secretFile: %w", err)
		}
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ra.secretFile: %w", err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(b) < 32 {
		return nil, fmt.Errorf("ra.secretFile %s: want at least 32 bytes in hex", path)
	}
	return b, nil
}

// renewBefore is how long before expiry a service certificate is replaced.
const renewBefore = 30 * 24 * time.Hour

// serviceCertificate returns the key of a service role, first issuing (or
// renewing) its certificate through the CA when it is missing or expires
// within renewBefore. The key is reused on renewal.
func (a *App) serviceCertificate(ctx context.Context, hopts hierarchy.Options, role, profile, name string) (crypto.Signer, error) {
	h := a.Hierarchy
	var signer crypto.Signer
	var err error
	if h.HasKey(role) {
		signer, err = h.OpenKey(hopts, role)
	} else {
		signer, err = h.GenerateServiceKey(hopts, role)
		if err == nil {
			err = a.Store.AppendAudit(ctx, audit.Event{Kind: audit.KindKeyCreated, Actor: "system", Object: role, Details: keyDetails(h.Manifest.Keys[role], hopts.KeyType)})
		}
	}
	if err != nil {
		return nil, err
	}
	cert, err := hierarchy.ReadCertificate(h.Dir, role)
	if err == nil && time.Until(cert.NotAfter) > renewBefore && cert.CheckSignatureFrom(h.Issuing) == nil &&
		cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(signer.Public()) {
		return signer, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	rec, err := a.Authority.IssueService(ctx, profile, signer.Public(), issuance.Subject{
		CommonName: a.Config.CA.Organization + " " + name, OrganizationName: a.Config.CA.Organization,
	})
	if err != nil {
		return nil, fmt.Errorf("issuing the %s certificate: %w", role, err)
	}
	cert, err = x509.ParseCertificate(rec.DER)
	if err != nil {
		return nil, err
	}
	a.Log.Info("issued service certificate", "role", role, "serial", rec.Serial, "notAfter", cert.NotAfter)
	return signer, hierarchy.WriteCertificate(h.Dir, role, cert)
}

// InitCA creates a CA directory and records the creation in the audit log.
func InitCA(ctx context.Context, st store.Store, opts hierarchy.Options, actor string) error {
	h, err := hierarchy.Create(opts)
	if err != nil {
		return err
	}
	for _, role := range []string{hierarchy.RoleRoot, hierarchy.RoleIssuing} {
		if err := st.AppendAudit(ctx, audit.Event{Kind: audit.KindKeyCreated, Actor: actor, Object: role, Details: keyDetails(h.Manifest.Keys[role], opts.KeyType)}); err != nil {
			return err
		}
	}
	details, _ := json.Marshal(map[string]any{"root": h.Root.Subject.String(), "issuing": h.Issuing.Subject.String(), "issuingSerial": fmt.Sprintf("%x", h.Issuing.SerialNumber.Bytes())})
	return st.AppendAudit(ctx, audit.Event{Kind: audit.KindCACreated, Actor: actor, Object: "ca", Details: details})
}

func keyDetails(ref string, kt keys.KeyType) json.RawMessage {
	where := "file"
	if strings.HasPrefix(ref, "pkcs11:") {
		where = "pkcs11"
	}
	d, _ := json.Marshal(map[string]string{"keyType": string(kt), "store": where, "ref": ref})
	return d
}

// Profiles returns the built-in profiles with configured overrides applied.
func Profiles(overrides map[string]config.Profile) (map[string]*issuance.Profile, error) {
	profiles := issuance.DefaultProfiles()
	for name, o := range overrides {
		p, ok := profiles[name]
		if !ok {
			return nil, fmt.Errorf("profiles.%s: no such profile (known: %v)", name, issuance.Names(profiles))
		}
		if o.Validity != 0 {
			p.Validity = o.Validity
		}
		if o.Policies != nil {
			p.Policies = nil
			for _, s := range o.Policies {
				oid, err := parseOID(s)
				if err != nil {
					return nil, fmt.Errorf("profiles.%s.policies: %w", name, err)
				}
				p.Policies = append(p.Policies, oid)
			}
		}
		if err := p.Validate(); err != nil {
			return nil, err
		}
	}
	return profiles, nil
}

func parseOID(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("%q is not a dotted OID", s)
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		var n int
		if _, err := fmt.Sscanf(p, "%d", &n); err != nil || n < 0 || fmt.Sprint(n) != p {
			return nil, fmt.Errorf("%q is not a dotted OID", s)
		}
		oid[i] = n
	}
	return oid, nil
}

// Close releases the store and any token sessions.
func (a *App) Close() error {
	err := a.Store.Close()
	keys.CloseAll()
	return err
}
