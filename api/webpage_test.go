package api_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/debugger"
	"github.com/chromedp/cdproto/domdebugger"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"esig/api/apitest"
)

// TestWebPageServing checks what the server sends with the page and its
// assets, without a browser.
func TestWebPageServing(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	resp, body := env.Do(t, "GET", "/enroll/some-token-value", "", nil)
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %q", resp.StatusCode, h.Get("Content-Type"))
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows inline code", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("page headers: %v", h)
	}
	if strings.Contains(string(body), "some-token-value") {
		t.Error("the page echoes the token")
	}
	if strings.Contains(string(body), "<script>") || strings.Contains(string(body), "style=") || strings.Contains(string(body), "http") {
		t.Error("the page has inline script or style, or names another origin")
	}

	for _, a := range []struct{ name, ctype string }{
		{"enroll.js", "text/javascript; charset=utf-8"},
		{"enroll.css", "text/css; charset=utf-8"},
		{"LICENSES.txt", "text/plain; charset=utf-8"},
		{"favicon.svg", "image/svg+xml"},
	} {
		resp, body := env.Do(t, "GET", "/assets/"+a.name, "", nil)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != a.ctype || len(body) == 0 || etag == "" ||
			resp.Header.Get("Cache-Control") != "public, no-cache" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s: %d %v", a.name, resp.StatusCode, resp.Header)
		}
		req, _ := http.NewRequest("GET", env.URL+"/assets/"+a.name, nil)
		req.Header.Set("If-None-Match", etag)
		r, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d, want 304", a.name, r.StatusCode)
		}
	}
	// The transport, asked for gzip explicitly, hands the encoded body over as it came.
	req, _ := http.NewRequest("GET", env.URL+"/assets/enroll.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	r, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := io.ReadAll(r.Body)
	r.Body.Close()
	_, plain := env.Do(t, "GET", "/assets/enroll.js", "", nil)
	if r.Header.Get("Content-Encoding") != "gzip" || len(gz) == 0 || len(gz) >= len(plain)/2 {
		t.Errorf("gzip: %q, %d bytes for %d", r.Header.Get("Content-Encoding"), len(gz), len(plain))
	}
	if resp, body := env.Do(t, "GET", "/assets/index.html", "", nil); resp.StatusCode != 404 {
		t.Errorf("/assets/index.html: %d %s", resp.StatusCode, body)
	}
}

// TestWebEnrollment drives headless Chromium through the enrollment page:
// it opens the link, generates the key pair, submits the request, saves
// the PKCS#12 file, and openssl then checks that the file's key matches
// the issued certificate and that the certificate verifies against the
// file's chain. It screenshots every state of the page.
func TestWebEnrollment(t *testing.T) {
	needOpenSSL(t)
	browserCtx := startChromium(t)
	shots := artifactDir(t)
	for _, kt := range []struct {
		name, value string
		// keyText is what `openssl pkey -text` says of the key.
		keyText string
		// refuseFirst sends a mangled request first, to see the server's
		// refusal on the page and the link survive it.
		refuseFirst bool
	}{
		{"ECDSA-P256", "ec-p256", "ASN1 OID: prime256v1", true},
		{"RSA-3072", "rsa-3072", "Private-Key: (3072 bit", false},
	} {
		t.Run(kt.name, func(t *testing.T) {
			e := startRA(t, apitest.Options{})
			app, token := e.apply(t)
			tab := newTab(t, browserCtx, filepath.Join(shots, kt.name))
			link := e.URL + "/enroll/" + token

			// Loading: hold the page's question about the link.
			tab.interceptAPI()
			tab.do(chromedp.Navigate(link))
			tab.release(tab.paused("GET"), "01-loading")

			tab.waitState("ready")
			tab.shot("02-ready")
			if got := tab.text("#holder"); got != "Anna Nowak" {
				t.Errorf("the page names %q", got)
			}
			if checked := tab.eval(`document.querySelector('input[name=keyType]:checked').value`); checked != "ec-p256" {
				t.Errorf("default key type %q, want ec-p256", checked)
			}

			// A short password is refused on the page, before any key is made.
			tab.do(chromedp.SendKeys(chromedp.ID("password"), "krotkie"), chromedp.SendKeys(chromedp.ID("confirm"), "krotkie"),
				chromedp.Click(chromedp.CSS("button[type=submit]")))
			if msg := tab.text("#form-error"); !strings.Contains(msg, "co najmniej 12") || tab.state() != "ready" {
				t.Fatalf("short password: state %s, message %q", tab.state(), msg)
			}
			tab.shot("03-password-too-short")

			const password = "Zażółć gęślą jaźń 2026"
			if kt.refuseFirst {
				tab.fill(kt.value, password)
				tab.submit()
				// The server gets a request it must refuse; the page shows its problem detail.
				tab.release(tab.paused("POST"), "", `{"csr":"-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgQ1NS\n-----END CERTIFICATE REQUEST-----\n"}`)
				tab.waitState("failed")
				if detail := tab.text("#failed-detail"); detail == "" || !strings.Contains(tab.text("#failed-lead"), "Link nadal działa") {
					t.Fatalf("refused request: detail %q, lead %q", detail, tab.text("#failed-lead"))
				}
				tab.shot("06-csr-refused")
				tab.do(chromedp.Click(chromedp.ID("retry")))
				tab.release(tab.paused("GET"), "")
				tab.waitState("ready")
			}

			tab.fill(kt.value, password)
			tab.submit()
			post := tab.paused("POST")
			checkOnlyCSR(t, post)
			tab.release(post, "05-submitting")
			tab.waitState("done")
			tab.shot("07-done")

			var after appView
			json.Unmarshal(e.call(t, "GET", "/v1/applications/"+app.ID, e.portal, "", 200), &after)
			if serial := tab.text("#serial"); after.Status != "enrolled" || serial != after.CertificateSerial {
				t.Fatalf("the page shows serial %q; the application is %s with %q", serial, after.Status, after.CertificateSerial)
			}
			dl := t.TempDir()
			p12Name, p12 := tab.download("download-p12", dl)
			tab.shot("08-downloaded")
			pemName, certPEM := tab.download("download-pem", dl)
			if p12Name != "certyfikat-"+after.CertificateSerial+".p12" || pemName != "certyfikat-"+after.CertificateSerial+".pem" {
				t.Errorf("downloads named %q and %q", p12Name, pemName)
			}
			checkPKCS12(t, p12, password, certPEM, e.Server.ChainPEM(), kt.keyText)

			// The link is spent: opening it again says so.
			tab.stopIntercepting()
			tab.do(chromedp.Navigate(link))
			tab.waitState("gone")
			if h := tab.text("#gone-heading"); h != "Ten link jest nieważny" {
				t.Errorf("used link: heading %q", h)
			}
			tab.shot("09-link-used")
			tab.checkConsole()
		})
	}
	t.Logf("screenshots of the page's states are in %s", shots)
}

// checkOnlyCSR checks that the page sends a PKCS#10 request and nothing
// else: no key, and no Referer (the link's token).
func checkOnlyCSR(t *testing.T, ev fetch.EventRequestPaused) {
	t.Helper()
	var body []byte
	for _, e := range ev.Request.PostDataEntries {
		body = append(body, e.Bytes...)
	}
	var req map[string]string
	if err := json.Unmarshal(body, &req); err != nil || len(req) != 1 {
		t.Fatalf("the page sent %s, want only {\"csr\": ...}", body)
	}
	b, _ := pem.Decode([]byte(req["csr"]))
	if b == nil || b.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("the page sent no PEM CSR: %q", req["csr"])
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		t.Fatalf("the page's CSR: %v", err)
	}
	for name := range ev.Request.Headers {
		if strings.EqualFold(name, "Referer") {
			t.Error("the page's request carries a Referer")
		}
	}
}

// checkPKCS12 has openssl open the file and check it: the algorithms, the
// key against the certificate, the certificate against the chain.
func checkPKCS12(t *testing.T, p12 []byte, password string, certPEM []byte, chainPEM, keyText string) {
	t.Helper()
	dir := t.TempDir()
	file := writeFile(t, dir, "enroll.p12", string(p12))
	pass := "pass:" + password
	info := run(t, "openssl", "pkcs12", "-in", file, "-passin", pass, "-info", "-noout")
	for _, want := range []string{
		"MAC: sha256, Iteration 100000",
		"PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256",
		"Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("openssl pkcs12 -info lacks %q:\n%s", want, info)
		}
	}
	if out, err := exec.Command("openssl", "pkcs12", "-in", file, "-passin", "pass:"+password+"x", "-noout").CombinedOutput(); err == nil {
		t.Errorf("openssl opened the file with a wrong password: %s", out)
	}

	key := filepath.Join(dir, "key.pem")
	leaf := filepath.Join(dir, "leaf.pem")
	cas := filepath.Join(dir, "cas.pem")
	run(t, "openssl", "pkcs12", "-in", file, "-passin", pass, "-nodes", "-nocerts", "-out", key)
	run(t, "openssl", "pkcs12", "-in", file, "-passin", pass, "-nodes", "-nokeys", "-clcerts", "-out", leaf)
	run(t, "openssl", "pkcs12", "-in", file, "-passin", pass, "-nodes", "-nokeys", "-cacerts", "-out", cas)
	if text := run(t, "openssl", "pkey", "-in", key, "-noout", "-text"); !strings.Contains(text, keyText) {
		t.Errorf("the key is not what was chosen (want %q)", keyText)
	}
	keyPub := run(t, "openssl", "pkey", "-in", key, "-pubout")
	certPub := run(t, "openssl", "x509", "-in", leaf, "-noout", "-pubkey")
	if keyPub != certPub {
		t.Fatalf("the PKCS#12 key does not match its certificate:\nkey  %s\ncert %s", keyPub, certPub)
	}
	if got, want := pemDERs(t, run(t, "openssl", "x509", "-in", leaf)), pemDERs(t, string(certPEM)); !slices.EqualFunc(got, want, slices.Equal) {
		t.Error("the certificate in the PKCS#12 is not the one offered as PEM")
	}
	gotCAs, wantCAs := pemDERs(t, readFile(t, cas)), pemDERs(t, chainPEM)
	slices.SortFunc(gotCAs, slices.Compare)
	slices.SortFunc(wantCAs, slices.Compare)
	if !slices.EqualFunc(gotCAs, wantCAs, slices.Equal) {
		t.Errorf("the PKCS#12 holds %d CA certificates, not the server's chain", len(gotCAs))
	}
	_, root := splitChain(t, dir, chainPEM)
	if out := run(t, "openssl", "verify", "-CAfile", root, "-untrusted", cas, leaf); !strings.Contains(out, ": OK") {
		t.Errorf("openssl verify: %s", out)
	}
}

// pemDERs returns the DER of every certificate in PEM text (openssl's bag
// attribute lines around them are skipped).
func pemDERs(t *testing.T, text string) [][]byte {
	t.Helper()
	var out [][]byte
	rest := []byte(text)
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return out
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			t.Fatalf("a PEM block is no certificate: %v", err)
		}
		out = append(out, b.Bytes)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// startChromium launches Debian's chromium headless with a fresh profile
// and no traffic of its own, and returns a context of the browser. Without
// chromium the test is skipped, except in CI (CI set), where it fails.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is required in CI (apt-get install chromium)")
		}
		t.Skip("chromium is not installed (apt-get install chromium); skipping the browser test")
	}
	profile := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(900, 1000),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Containers often have a tiny /dev/shm; Chromium crashes when it fills.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "pl-PL"),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	// Cancelling waits for the browser to exit, before the profile goes.
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// artifactDir is where screenshots go: $ESIG_TEST_ARTIFACTS/enroll when
// that is set (CI keeps it), else a temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("ESIG_TEST_ARTIFACTS")
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, "enroll")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tab is one browser tab driving the page.
type tab struct {
	t        *testing.T
	ctx      context.Context
	shots    string
	requests <-chan fetch.EventRequestPaused
	console  <-chan chromedp.ConsoleMessage
}

func newTab(t *testing.T, browserCtx context.Context, shots string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &tab{t: t, ctx: ctx, shots: shots, requests: forward(ctx, chromedp.Events(ctx, fetch.RequestPaused)), console: forward(ctx, chromedp.Console(ctx))}
}

// forward turns an event iterator into a buffered channel.
func forward[E any](ctx context.Context, events func(func(E, error) bool)) <-chan E {
	ch := make(chan E, 64)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

// do runs actions with a time limit, failing the test on error.
func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *tab) call(f func(ctx context.Context) error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	if err := f(ctx); err != nil {
		b.t.Fatal(err)
	}
}

// eval returns the value of a JavaScript expression as a string.
func (b *tab) eval(expr string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`document.querySelector(%q).textContent.trim()`, sel))
}

func (b *tab) state() string { return b.eval(`document.body.dataset.state`) }

// waitState waits for the page to reach a state, failing early when it
// settles in another one.
func (b *tab) waitState(want string) {
	b.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := b.state()
		if got == want {
			return
		}
		if settled := got == "done" || got == "gone" || got == "failed"; settled || time.Now().After(deadline) {
			b.shot("unexpected-" + got)
			b.t.Fatalf("the page is %q, want %q: %s", got, want, b.text("main"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shot saves a PNG of the whole page.
func (b *tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// interceptAPI pauses the page's calls to the enrollment API, so that the
// states that wait for them can be seen.
func (b *tab) interceptAPI() {
	b.t.Helper()
	b.call(func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/v1/enroll/*"}}})
		return err
	})
}

func (b *tab) stopIntercepting() {
	b.t.Helper()
	b.call(func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, fetch.Disable, cdp.Empty{})
		return err
	})
}

// paused waits for the page's next API call, which must use method.
func (b *tab) paused(method string) fetch.EventRequestPaused {
	b.t.Helper()
	select {
	case ev := <-b.requests:
		if ev.Request.Method != method {
			b.t.Fatalf("the page sent %s %s, want %s", ev.Request.Method, ev.Request.URL, method)
		}
		return ev
	case <-time.After(90 * time.Second):
		b.t.Fatalf("the page sent no %s to the API", method)
	}
	panic("unreachable")
}

// release screenshots the page while the call waits (when shot is not
// empty), then lets the call go on, with another body when one is given.
func (b *tab) release(ev fetch.EventRequestPaused, shot string, body ...string) {
	b.t.Helper()
	if shot != "" {
		b.shot(shot)
	}
	p := fetch.ContinueRequestParams{RequestID: ev.RequestID}
	if len(body) > 0 {
		p.PostData = []byte(body[0])
	}
	b.call(func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, fetch.ContinueRequest, p)
		return err
	})
}

// fill chooses the key type and types the password twice (as text input,
// the way an input method enters Polish letters).
func (b *tab) fill(keyType, password string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(`input[name=keyType][value="` + keyType + `"]`)))
	for _, id := range []string{"password", "confirm"} {
		b.eval(fmt.Sprintf(`document.getElementById(%q).value = ""`, id))
		b.do(chromedp.Focus(chromedp.ID(id)))
		b.call(func(ctx context.Context) error {
			_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: password})
			return err
		})
	}
	if typed := b.eval(`document.getElementById("confirm").value`); typed != password {
		b.t.Fatalf("typed %q into the password field, which holds %q", password, typed)
	}
}

// submit presses the button and screenshots the generating step: a DOM
// breakpoint stops the script when it leaves that step, so the picture
// shows it however fast the key is made.
func (b *tab) submit() {
	b.t.Helper()
	pauses := forward(b.ctx, chromedp.Events(b.ctx, debugger.Paused))
	var body cdp.NodeID
	b.call(func(ctx context.Context) error {
		if _, err := chromedp.Call(ctx, debugger.Enable, debugger.EnableParams{}); err != nil {
			return err
		}
		// chromedp's own node ids: ids from another DOM.getDocument go stale.
		ids, err := chromedp.Run(ctx, chromedp.QueryNodeIDs(chromedp.CSS("body")))
		if err != nil {
			return err
		}
		body = ids[0]
		_, err = chromedp.Call(ctx, domdebugger.SetDOMBreakpoint, domdebugger.SetDOMBreakpointParams{NodeID: body, Type: domdebugger.DOMBreakpointTypeAttributeModified})
		return err
	})
	// The click returns once the page has handled it, which the breakpoint
	// holds up: click from aside.
	clicked := make(chan error, 1)
	go func() { clicked <- chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("button[type=submit]"))) }()
	defer func() {
		if err := <-clicked; err != nil {
			b.t.Fatalf("clicking submit: %v", err)
		}
	}()
	for {
		var ev debugger.EventPaused
		select {
		case ev = <-pauses:
		case <-time.After(90 * time.Second):
			b.t.Fatal("the page never left the generating step")
		}
		var state string
		b.call(func(ctx context.Context) error {
			r, err := chromedp.Call(ctx, debugger.EvaluateOnCallFrame, debugger.EvaluateOnCallFrameParams{
				CallFrameID: ev.CallFrames[0].CallFrameID, Expression: "document.body.dataset.state", ReturnByValue: new(true)})
			if err == nil {
				err = json.Unmarshal(r.Result.Value, &state)
			}
			return err
		})
		last := state == "generating"
		if last {
			b.shot("04-generating")
		}
		b.call(func(ctx context.Context) error {
			if last {
				if _, err := chromedp.Call(ctx, domdebugger.RemoveDOMBreakpoint, domdebugger.RemoveDOMBreakpointParams{NodeID: body, Type: domdebugger.DOMBreakpointTypeAttributeModified}); err != nil {
					return err
				}
			}
			if _, err := chromedp.Call(ctx, debugger.Resume, debugger.ResumeParams{}); err != nil || !last {
				return err
			}
			_, err := chromedp.Call(ctx, debugger.Disable, cdp.Empty{})
			return err
		})
		if last {
			return
		}
	}
}

// download clicks a download link and returns the suggested file name and
// the saved bytes.
func (b *tab) download(id, dir string) (string, []byte) {
	b.t.Helper()
	begins := forward(b.ctx, chromedp.Events(b.ctx, browser.DownloadWillBegin))
	progress := forward(b.ctx, chromedp.Events(b.ctx, browser.DownloadProgress))
	b.call(func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)})
		return err
	})
	b.do(chromedp.Click(chromedp.ID(id)))
	timeout := time.After(90 * time.Second)
	var begin browser.EventDownloadWillBegin
	select {
	case begin = <-begins:
	case <-timeout:
		b.t.Fatalf("clicking #%s started no download", id)
	}
	for {
		select {
		case p := <-progress:
			if p.GUID != begin.GUID {
				continue
			}
			switch p.State {
			case browser.DownloadProgressStateCompleted:
				return begin.SuggestedFilename, []byte(readFile(b.t, filepath.Join(dir, begin.GUID)))
			case browser.DownloadProgressStateCanceled:
				b.t.Fatalf("the download of %s was cancelled", begin.SuggestedFilename)
			}
		case <-timeout:
			b.t.Fatalf("the download of %s did not complete", begin.SuggestedFilename)
		}
	}
}

// checkConsole fails the test on any exception or browser error the page
// caused (a Content-Security-Policy violation is one), except the API's
// refusals the test provoked, which the browser logs as failed loads.
func (b *tab) checkConsole() {
	b.t.Helper()
	for {
		select {
		case m := <-b.console:
			provoked := strings.Contains(m.Text, "status of 400") || strings.Contains(m.Text, "status of 410")
			if m.IsException() || (m.Type == chromedp.ConsoleError && !provoked) {
				b.t.Errorf("browser console: %s (%s:%d)", m, m.URL, m.Line+1)
			}
		default:
			return
		}
	}
}
