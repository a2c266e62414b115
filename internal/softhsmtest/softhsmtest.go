// Package softhsmtest gives tests a fresh SoftHSM2 token of their own.
//
//	tok := softhsmtest.New(t)
//	signer, err := keys.Generate(keys.ECDSAP256, tok.URI("ca"), keys.Options{})
//
// SoftHSM reads its configuration (SOFTHSM2_CONF) once, at C_Initialize,
// and a process initialises a PKCS#11 library once. So the package sets up
// one token directory for the whole test process, the first time New is
// called, and every token of the process lives there. Call New before
// anything else in the process touches SoftHSM.
//
// SoftHSM 2.6 does not see tokens that another process (softhsm2-util)
// creates after C_Initialize: they appear only after C_Finalize and a new
// C_Initialize, which would invalidate every open session in the process.
// Tokens initialised in-process with C_InitToken, on the slot SoftHSM keeps
// free for the purpose, are visible at once. The package therefore creates
// one anchor token with softhsm2-util before the library is first
// initialised, keeps a crypto11 context on it so the library stays
// initialised for the life of the process (crypto11 counts references per
// module path, and finalises when the last context closes), and initialises
// every test token in-process. This works whether or not a SoftHSM version
// sees late tokens, and whatever the tests do with their own contexts.
//
// Without SoftHSM installed, New skips the test, or fails it when the
// environment variable CI is set, so CI cannot pass by skipping.
package softhsmtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"esig/internal/pkcs11uri"
)

// DefaultModulePath is where Debian's softhsm2 package installs the module.
const DefaultModulePath = "/usr/lib/softhsm/libsofthsm2.so"

// ModuleEnv overrides DefaultModulePath; it is the variable package keys
// reads too, so a developer sets it once for both.
const ModuleEnv = "ESIG_PKCS11_MODULE"

// Token is a freshly initialised SoftHSM2 token with a user PIN set and no
// objects.
type Token struct {
	// Label is the token label, random so that tokens never collide.
	Label string
	// Serial is the serial number SoftHSM gave the token.
	Serial string
	// PIN is the user PIN.
	PIN string
	// SOPIN is the security officer PIN.
	SOPIN string
	// ModulePath is the SoftHSM2 PKCS#11 module.
	ModulePath string
}

// URI returns a self-contained pkcs11: URI for the object labelled object on
// this token (the whole token when object is empty), with module-path and
// pin-value, so keys.Open needs no Options.
func (tk *Token) URI(object string) string {
	s := "pkcs11:token=" + pkcs11uri.Escape(tk.Label)
	if object != "" {
		s += ";object=" + pkcs11uri.Escape(object)
	}
	return s + "?module-path=" + pkcs11uri.Escape(tk.ModulePath) + "&pin-value=" + pkcs11uri.Escape(tk.PIN)
}

// process is the state shared by every token of the test process.
type process struct {
	err     error // setup failure, reported by every New
	missing bool  // err means SoftHSM is not installed
	module  string
	dir     string
	raw     *pkcs11.Ctx
	anchor  *crypto11.Context
	mu      sync.Mutex // serialises token creation: each takes the one free slot
}

var (
	once  sync.Once
	state process
)

// New initialises a new token for the test. It skips the test when SoftHSM2
// is not installed, unless CI is set, and then fails it.
func New(t testing.TB) *Token {
	t.Helper()
	once.Do(state.setup)
	if state.err != nil {
		if state.missing && os.Getenv("CI") == "" {
			t.Skipf("softhsmtest: %v", state.err)
		}
		t.Fatalf("softhsmtest: %v", state.err)
	}
	tk, err := state.newToken()
	if err != nil {
		t.Fatalf("softhsmtest: %v", err)
	}
	return tk
}

func (p *process) setup() {
	p.module = os.Getenv(ModuleEnv)
	if p.module == "" {
		p.module = DefaultModulePath
	}
	if _, err := os.Stat(p.module); err != nil {
		p.err, p.missing = fmt.Errorf("SoftHSM2 is not installed (no PKCS#11 module at %s; install the softhsm2 package or set %s)", p.module, ModuleEnv), true
		return
	}
	if _, err := exec.LookPath("softhsm2-util"); err != nil {
		p.err, p.missing = errors.New("SoftHSM2 is not installed (softhsm2-util is not in PATH; install the softhsm2 package)"), true
		return
	}
	sweepStale()
	dir, err := os.MkdirTemp("", fmt.Sprintf("esig-softhsmtest-%d-", os.Getpid()))
	if err != nil {
		p.err = err
		return
	}
	p.dir = dir
	tokens := filepath.Join(dir, "tokens")
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		p.err = err
		return
	}
	confText := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(conf, []byte(confText), 0o600); err != nil {
		p.err = err
		return
	}
	// Process-wide on purpose: the library reads it at C_Initialize, and
	// softhsm2-util, a child, inherits it.
	os.Setenv("SOFTHSM2_CONF", conf)

	label, pin, sopin := "esig-anchor-"+randomHex(6), randomHex(8), randomHex(8)
	out, err := exec.Command("softhsm2-util", "--init-token", "--free",
		"--label", label, "--pin", pin, "--so-pin", sopin).CombinedOutput()
	if err != nil {
		p.err = fmt.Errorf("softhsm2-util --init-token: %v: %s", err, strings.TrimSpace(string(out)))
		return
	}
	p.anchor, err = crypto11.Configure(&crypto11.Config{Path: p.module, TokenLabel: label, Pin: pin, MaxSessions: 2})
	if err != nil {
		p.err = fmt.Errorf("opening the anchor token %q: %v (was SoftHSM initialised in this process before softhsmtest.New? "+
			"it would then be reading another SOFTHSM2_CONF)", label, err)
		return
	}
	if p.raw = pkcs11.New(p.module); p.raw == nil {
		p.err = fmt.Errorf("loading %s", p.module)
	}
}

// sweepStale removes the token directories of earlier test processes that
// are gone. A process cannot remove its own at exit (Go has no exit hook for
// a library, and the loaded library holds the files), so each cleans up
// after its predecessors.
func sweepStale() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "esig-softhsmtest-*-*"))
	for _, m := range matches {
		fields := strings.SplitN(filepath.Base(m), "-", 4)
		if len(fields) != 4 {
			continue
		}
		pid, err := strconv.Atoi(fields[2])
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(m)
		}
	}
}

// newToken initialises the free slot in-process: C_InitToken with the SO
// PIN, then the SO logs in and sets the user PIN.
func (p *process) newToken() (*Token, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tk := &Token{Label: "esig-test-" + randomHex(8), PIN: randomHex(8), SOPIN: randomHex(8), ModulePath: p.module}

	slot, err := p.freeSlot()
	if err != nil {
		return nil, err
	}
	if err := p.raw.InitToken(slot, tk.SOPIN, tk.Label); err != nil {
		return nil, fmt.Errorf("C_InitToken on slot %d: %w", slot, err)
	}
	sh, err := p.raw.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return nil, fmt.Errorf("opening a session on the new token: %w", err)
	}
	defer p.raw.CloseSession(sh)
	if err := p.raw.Login(sh, pkcs11.CKU_SO, tk.SOPIN); err != nil {
		return nil, fmt.Errorf("SO login on the new token: %w", err)
	}
	err = p.raw.InitPIN(sh, tk.PIN)
	if lerr := p.raw.Logout(sh); err == nil {
		err = lerr
	}
	if err != nil {
		return nil, fmt.Errorf("setting the user PIN: %w", err)
	}
	info, err := p.raw.GetTokenInfo(slot)
	if err != nil || info.Label != tk.Label {
		return nil, fmt.Errorf("the new token %q is not visible in slot %d (%v)", tk.Label, slot, err)
	}
	tk.Serial = info.SerialNumber
	return tk, nil
}

func (p *process) freeSlot() (uint, error) {
	slots, err := p.raw.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("C_GetSlotList: %w", err)
	}
	for _, s := range slots {
		info, err := p.raw.GetTokenInfo(s)
		if err == nil && info.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			return s, nil
		}
	}
	return 0, errors.New("SoftHSM offers no free slot for a new token")
}

// Session opens a read-write session on the token logged in as the user,
// for tests that inspect objects directly (attributes, extractability). It
// is closed when the test ends. Login state in PKCS#11 belongs to the
// process, not the session: while this session is open the token counts as
// logged in for every context in the process.
func (tk *Token) Session(t testing.TB) (*pkcs11.Ctx, pkcs11.SessionHandle) {
	t.Helper()
	state.mu.Lock()
	defer state.mu.Unlock()
	slot, err := state.findSlot(tk.Label)
	if err != nil {
		t.Fatalf("softhsmtest: %v", err)
	}
	sh, err := state.raw.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		t.Fatalf("softhsmtest: opening a session on %q: %v", tk.Label, err)
	}
	t.Cleanup(func() { state.raw.CloseSession(sh) })
	if err := state.raw.Login(sh, pkcs11.CKU_USER, tk.PIN); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
		t.Fatalf("softhsmtest: login on %q: %v", tk.Label, err)
	}
	return state.raw, sh
}

func (p *process) findSlot(label string) (uint, error) {
	slots, err := p.raw.GetSlotList(true)
	if err != nil {
		return 0, err
	}
	for _, s := range slots {
		if info, err := p.raw.GetTokenInfo(s); err == nil && info.Label == label {
			return s, nil
		}
	}
	return 0, fmt.Errorf("no token labelled %q", label)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
