package keys

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"esig/internal/pkcs11uri"
)

// registry caches one crypto11 context per token per module, for the life
// of the process.
//
// Why a cache: a PKCS#11 library is initialised once per process
// (C_Initialize), login state is per token per process rather than per
// session, and crypto11.Configure opens a session pool and logs in. Opening
// a context per Open call would be slow, and closing one could log out the
// token under another context's feet.
//
// Why the cache is keyed by the token's identity (serial and label, read
// from the token) and not by the URI: crypto11 ignores
// CKR_USER_ALREADY_LOGGED_IN, so a second context on a token that is already
// logged in would accept any PIN. Every Open of a token already open in this
// process is therefore routed to the one context, and its PIN is compared
// with the PIN that context logged in with.
var reg = registry{modules: map[string]*module{}}

type registry struct {
	mu      sync.Mutex
	modules map[string]*module // by module path as given
}

// module is one loaded PKCS#11 library.
type module struct {
	path string
	// raw is a second handle on the same library (dlopen is reference
	// counted), used to read token information and look for objects, which
	// crypto11 does not expose. It never initialises or finalises the
	// library; that stays with crypto11.
	raw        *pkcs11.Ctx
	tokens     []*token
	bySelector map[string]*token
}

// token is one logged-in token.
type token struct {
	mod          *module
	ctx          *crypto11.Context
	slot         uint
	info         pkcs11.TokenInfo
	pinDigest    [sha256.Size]byte
	generateLock sync.Mutex // makes Generate's check-then-create atomic in-process
}

// name describes the token for error messages.
func (t *token) name() string {
	return fmt.Sprintf("token %q (serial %s)", t.info.Label, t.info.SerialNumber)
}

// selector is how a URI picks its token, in the form crypto11 takes.
type selector struct {
	label, serial string
	slot          *int
}

func (s selector) key() string {
	switch {
	case s.serial != "":
		return "serial\x00" + s.serial
	case s.slot != nil:
		return fmt.Sprintf("slot\x00%d", *s.slot)
	}
	return "label\x00" + s.label
}

func (s selector) String() string {
	switch {
	case s.serial != "":
		return fmt.Sprintf("serial %q", s.serial)
	case s.slot != nil:
		return fmt.Sprintf("slot-id %d", *s.slot)
	}
	return fmt.Sprintf("label %q", s.label)
}

// selectorOf picks the token selector from a URI. Serial wins because it is
// unique; then the label; slot-id last, because some modules (SoftHSM) give
// tokens random slot ids that change when tokens are added.
func selectorOf(u *pkcs11uri.URI) (selector, error) {
	switch {
	case u.Serial != "":
		return selector{serial: u.Serial}, nil
	case u.Token != "":
		return selector{label: u.Token}, nil
	case u.SlotID != nil:
		if *u.SlotID > math.MaxInt32 {
			return selector{}, fmt.Errorf("keys: %s: slot-id %d is out of range", u, *u.SlotID)
		}
		n := int(*u.SlotID)
		return selector{slot: &n}, nil
	}
	return selector{}, fmt.Errorf("keys: %s names no token: add token= (the token label) or serial=", u)
}

// modulePath finds the PKCS#11 library: the URI's module-path, else
// Options.ModulePath, else $ESIG_PKCS11_MODULE.
func modulePath(u *pkcs11uri.URI, opts Options) (string, error) {
	p, from := u.ModulePath, "the URI's module-path"
	if p == "" {
		p, from = opts.ModulePath, "Options.ModulePath"
	}
	if p == "" {
		p, from = os.Getenv(ModuleEnv), ModuleEnv
	}
	if p == "" {
		return "", fmt.Errorf("keys: %s: no PKCS#11 module: the URI has no module-path attribute, "+
			"and neither Options.ModulePath nor %s is set", u, ModuleEnv)
	}
	if u.ModuleName != "" && !moduleNameMatches(u.ModuleName, p) {
		return "", fmt.Errorf("keys: %s: module-name %q does not match the module %q (from %s)", u, u.ModuleName, p, from)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("keys: PKCS#11 module (from %s): %w", from, err)
	}
	return p, nil
}

// moduleNameMatches accepts "softhsm2" and "libsofthsm2" for
// ".../libsofthsm2.so" (and ".so.2", ".dylib", ".dll").
func moduleNameMatches(name, path string) bool {
	base := filepath.Base(path)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return name == base || "lib"+name == base
}

// maxPINFileSize bounds a pin-source file: a PIN is short, and reading a
// large file by mistake should fail rather than send it to the token.
const maxPINFileSize = 1024

// resolvePIN returns Options.PIN, else pin-value, else the content of the
// pin-source file without its trailing line break.
func resolvePIN(u *pkcs11uri.URI, opts Options) (string, error) {
	if opts.PIN != "" {
		return opts.PIN, nil
	}
	if u.Has(pkcs11uri.AttrPINValue) {
		return u.PINValue(), nil
	}
	if u.PINSource == "" {
		return "", fmt.Errorf("keys: %s: no PIN: give pin-value or pin-source in the URI, or Options.PIN", u)
	}
	f, err := os.Open(u.PINSource)
	if err != nil {
		return "", fmt.Errorf("keys: pin-source: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPINFileSize+1))
	if err != nil {
		return "", fmt.Errorf("keys: reading pin-source: %w", err)
	}
	if len(data) > maxPINFileSize {
		return "", fmt.Errorf("keys: pin-source file %q is larger than %d bytes; it should hold only the PIN", u.PINSource, maxPINFileSize)
	}
	data = bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r"))
	if len(data) == 0 {
		return "", fmt.Errorf("keys: pin-source file %q is empty", u.PINSource)
	}
	return string(data), nil
}

// openTokenFor returns the logged-in token that u names, opening and caching
// a context on first use.
func (r *registry) openTokenFor(u *pkcs11uri.URI, opts Options) (*token, error) {
	path, err := modulePath(u, opts)
	if err != nil {
		return nil, err
	}
	pin, err := resolvePIN(u, opts)
	if err != nil {
		return nil, err
	}
	sel, err := selectorOf(u)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte(pin))

	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.modules[path]
	if m != nil {
		if t := m.bySelector[sel.key()]; t != nil {
			if err := t.check(u, digest); err != nil {
				return nil, err
			}
			return t, nil
		}
	}

	cfg := &crypto11.Config{Path: path, Pin: pin, TokenLabel: sel.label, TokenSerial: sel.serial, SlotNumber: sel.slot}
	ctx, err := crypto11.Configure(cfg)
	if err != nil {
		return nil, configureError(err, path, sel)
	}
	if m == nil {
		raw := pkcs11.New(path)
		if raw == nil {
			ctx.Close()
			return nil, fmt.Errorf("keys: cannot load PKCS#11 module %q a second time", path)
		}
		m = &module{path: path, raw: raw, bySelector: map[string]*token{}}
		r.modules[path] = m
	}
	slot, info, err := m.findToken(sel)
	if err != nil {
		ctx.Close()
		return nil, err
	}
	for _, t := range m.tokens {
		if t.slot == slot && t.info.SerialNumber == info.SerialNumber && t.info.Label == info.Label {
			// The same token under another selector: keep the context that
			// really logged in, and judge the PIN against it.
			ctx.Close()
			if err := t.check(u, digest); err != nil {
				return nil, err
			}
			m.bySelector[sel.key()] = t
			return t, nil
		}
	}
	t := &token{mod: m, ctx: ctx, slot: slot, info: info, pinDigest: digest}
	if err := t.check(u, digest); err != nil {
		ctx.Close()
		return nil, err
	}
	m.tokens = append(m.tokens, t)
	m.bySelector[sel.key()] = t
	return t, nil
}

// check verifies the PIN against the one this token was opened with, and
// the URI's other token attributes against the token.
func (t *token) check(u *pkcs11uri.URI, pinDigest [sha256.Size]byte) error {
	if subtle.ConstantTimeCompare(pinDigest[:], t.pinDigest[:]) != 1 {
		return fmt.Errorf("keys: %s: %w (it differs from the PIN this process logged in with)", t.name(), ErrWrongPIN)
	}
	mismatch := func(attr, want, got string) error {
		return fmt.Errorf("keys: %s: %w: the URI says %s=%q but the token selected has %q", u, ErrTokenNotFound, attr, want, got)
	}
	switch {
	case u.Has(pkcs11uri.AttrToken) && u.Token != t.info.Label:
		return mismatch(pkcs11uri.AttrToken, u.Token, t.info.Label)
	case u.Has(pkcs11uri.AttrSerial) && u.Serial != t.info.SerialNumber:
		return mismatch(pkcs11uri.AttrSerial, u.Serial, t.info.SerialNumber)
	case u.Has(pkcs11uri.AttrManufacturer) && u.Manufacturer != t.info.ManufacturerID:
		return mismatch(pkcs11uri.AttrManufacturer, u.Manufacturer, t.info.ManufacturerID)
	case u.Has(pkcs11uri.AttrModel) && u.Model != t.info.Model:
		return mismatch(pkcs11uri.AttrModel, u.Model, t.info.Model)
	case u.SlotID != nil && *u.SlotID != uint64(t.slot):
		return mismatch(pkcs11uri.AttrSlotID, fmt.Sprint(*u.SlotID), fmt.Sprint(t.slot))
	}
	return nil
}

// findToken repeats crypto11's token search (first slot with a token whose
// field matches) to learn the slot and token information it chose.
func (m *module) findToken(sel selector) (uint, pkcs11.TokenInfo, error) {
	slots, err := m.raw.GetSlotList(true)
	if err != nil {
		return 0, pkcs11.TokenInfo{}, fmt.Errorf("keys: listing slots of %q: %w", m.path, err)
	}
	for _, slot := range slots {
		info, err := m.raw.GetTokenInfo(slot)
		if err != nil {
			continue
		}
		if sel.slot != nil && uint(*sel.slot) == slot ||
			sel.serial != "" && info.SerialNumber == sel.serial ||
			sel.label != "" && info.Label == sel.label {
			return slot, info, nil
		}
	}
	return 0, pkcs11.TokenInfo{}, fmt.Errorf("keys: module %q: %w with %s", m.path, ErrTokenNotFound, sel)
}

// configureError turns crypto11.Configure's errors into ones that say what
// to fix.
func configureError(err error, path string, sel selector) error {
	var p11 pkcs11.Error
	if errors.As(err, &p11) {
		switch p11 {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
			return fmt.Errorf("keys: token with %s: %w", sel, ErrWrongPIN)
		case pkcs11.CKR_PIN_LOCKED:
			return fmt.Errorf("keys: token with %s: the user PIN is locked (too many wrong PINs); the security officer must reset it", sel)
		case pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED:
			return fmt.Errorf("keys: PKCS#11 module %q is already initialised in this process under another path; "+
				"name the module by the same path everywhere", path)
		}
	}
	msg := err.Error()
	switch {
	case msg == "could not find PKCS#11 token":
		return fmt.Errorf("keys: module %q: %w with %s (tokens are matched exactly, case included)", path, ErrTokenNotFound, sel)
	case strings.Contains(msg, "failed to open module"):
		return fmt.Errorf("keys: cannot load PKCS#11 module %q (not a PKCS#11 library, or a dependency is missing)", path)
	}
	return fmt.Errorf("keys: opening token with %s in module %q: %w", sel, path, err)
}

// CloseAll logs out of and closes every token context this package opened,
// and unloads the modules when nothing else in the process uses them. Call it
// at shutdown; signers from Open or Generate on tokens stop working after it.
// Later Opens start afresh.
func CloseAll() error {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	var errs []error
	for path, m := range reg.modules {
		for _, t := range m.tokens {
			if err := t.ctx.Close(); err != nil {
				errs = append(errs, fmt.Errorf("keys: closing %s: %w", t.name(), err))
			}
		}
		m.raw.Destroy()
		delete(reg.modules, path)
	}
	return errors.Join(errs...)
}
