package api_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"esig/api/apitest"
	"esig/internal/config"
	"esig/verifier/report"
)

// allocBound is the most one hostile request may allocate, client and
// server together: a fixed allowance plus a constant factor of the bytes
// sent (decoding the JSON body, its base64 and a parse tree each cost a
// few times the input). The documents below would cost gigabytes if their
// entities were expanded or their claimed lengths allocated; within this
// bound, memory follows what was sent, not what it claims.
func allocBound(sent int) uint64 { return 64<<20 + 24*uint64(sent) }

// billionLaughs is the classic entity expansion bomb: ten levels of ten
// references, 10^9 copies of "lol" if a parser expanded them.
func billionLaughs() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">`)
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	b.WriteString(`]><lolz>&lol9;</lolz>`)
	return []byte(b.String())
}

// quadraticBlowup defines one large entity and references it many times:
// no nesting for a depth limit to catch, hundreds of megabytes expanded.
func quadraticBlowup() []byte {
	ent := strings.Repeat("A", 40_000)
	return []byte(`<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "` + ent + `">]><q>` + strings.Repeat("&a;", 15_000) + `</q>`)
}

// derLength encodes a DER length in the long form with n octets.
func derLength(v uint64, n int) []byte {
	out := []byte{0x80 | byte(n)}
	for i := n - 1; i >= 0; i-- {
		out = append(out, byte(v>>(8*i)))
	}
	return out
}

// oidSignedData is 1.2.840.113549.1.7.2 in DER.
var oidSignedData = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}

// hostileSignature is an XMLDSig signature whose every base64 field is
// huge: a verifier that decodes before it checks sizes allocates it all.
func hostileSignature(n int) []byte {
	blob := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x30}, n))
	return []byte(`<?xml version="1.0"?><Doc><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
		`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
		`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>` +
		`<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>` + blob[:64] + `</ds:DigestValue></ds:Reference>` +
		`</ds:SignedInfo><ds:SignatureValue>` + blob + `</ds:SignatureValue>` +
		`<ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + blob + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature></Doc>`)
}

// documentBodyLimit is the body limit of the routes that take signed
// documents: api.Deps.MaxDocumentBytes, which apitest (like esig serve)
// leaves at its default.
const documentBodyLimit = 32 << 20

// TestIntakeHostileDocuments submits hostile documents to POST /v1/intake,
// the route that takes arbitrary signed files from portals: entity bombs,
// deep nesting, CMS structures claiming absurd lengths, huge base64, and
// malformed JSON around them. Each must be refused with a clean problem
// (400, or 422 with a verification report; 413 over the body limit), never
// a 5xx, and with bounded memory.
func TestIntakeHostileDocuments(t *testing.T) {
	e := startRA(t, apitest.Options{})
	bodyLimit := documentBodyLimit
	// The largest document whose base64 still fits in a request body.
	docRoom := (bodyLimit - 64) / 4 * 3

	doc := func(b []byte) string {
		if len(b) > docRoom {
			t.Fatalf("test document of %d bytes does not fit a %d-byte body", len(b), bodyLimit)
		}
		out, _ := json.Marshal(map[string]any{"document": base64.StdEncoding.EncodeToString(b)})
		return string(out)
	}
	cmsNest := func(tagLen []byte, depth int) []byte {
		return bytes.Repeat(tagLen, depth)
	}
	tests := []struct {
		name string
		body string
		want []int // any of these statuses
	}{
		// XML
		{"billion laughs", doc(billionLaughs()), []int{400, 422}},
		{"quadratic blowup", doc(quadraticBlowup()), []int{400, 422}},
		{"external entity", doc([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`)), []int{400, 422}},
		{"parameter entity", doc([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]><x/>`)), []int{400, 422}},
		{"deep nesting, closed", doc([]byte(strings.Repeat("<a>", 70_000) + strings.Repeat("</a>", 70_000))), []int{400, 422}},
		{"deep nesting, unclosed", doc([]byte(strings.Repeat("<a>", docRoom/3))), []int{400, 422}},
		{"deep nesting inside a signature", doc([]byte(`<Doc><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Object>` +
			strings.Repeat("<x>", 60_000) + strings.Repeat("</x>", 60_000) + `</ds:Object></ds:Signature></Doc>`)), []int{400, 422}},
		{"many attributes", doc([]byte(`<a` + manyAttributes(50_000) + `/>`)), []int{400, 422}},
		{"huge attribute", doc([]byte(`<a x="` + strings.Repeat("A", docRoom-16) + `"/>`)), []int{400, 422}},
		{"huge base64 in a signature", doc(hostileSignature(docRoom / 3)), []int{400, 422}},
		{"many signatures", doc([]byte(`<Doc>` + strings.Repeat(`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/>`, 9_000) + `</Doc>`)), []int{400, 422}},
		// CMS
		{"SEQUENCE claiming 2^63 bytes", doc(append([]byte{0x30}, append(derLength(1<<63-1, 8), 0x06, 0x01, 0x00)...)), []int{400, 422}},
		{"signedData claiming 4 GiB", doc(append(append([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xf0}, oidSignedData...), 0xa0, 0x84, 0xff, 0xff, 0xff, 0x00, 0x30, 0x80)), []int{400, 422}},
		{"length with 127 octets", doc(append([]byte{0x30, 0xff}, bytes.Repeat([]byte{0xff}, 127)...)), []int{400, 422}},
		{"indefinite lengths nested deep", doc(cmsNest([]byte{0x30, 0x80}, docRoom/2)), []int{400, 422}},
		{"constructed OCTET STRING nested deep", doc(append(append([]byte{0x30, 0x80}, oidSignedData...), cmsNest([]byte{0xa0, 0x80, 0x24, 0x80}, docRoom/4-8)...)), []int{400, 422}},
		{"random bytes", doc(bytes.Repeat([]byte{0x5a, 0x17, 0xc3, 0x00}, docRoom/4)), []int{400, 422}},
		{"PEM of garbage", doc([]byte("-----BEGIN PKCS7-----\n" + strings.Repeat("QUJD", docRoom/4-16) + "\n-----END PKCS7-----\n")), []int{400, 422}},
		// The JSON around it
		{"base64 over the body limit", `{"document":"` + strings.Repeat("QUJD", bodyLimit/4+1) + `"}`, []int{413}},
		{"not base64", `{"document":"!!! not base64 !!!"}`, []int{400}},
		{"base64 with a bad tail", `{"document":"QUJDR"}`, []int{400}},
		{"deep JSON nesting", `{"document":"QUJD","detached":` + strings.Repeat("[", bodyLimit/2) + `}`, []int{400, 413}},
		{"many detached parts", `{"document":"QUJD","detached":[` + strings.TrimSuffix(strings.Repeat(`{"name":"a","content":""},`, bodyLimit/32), ",") + `]}`, []int{400, 422}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reqBody := []byte(tc.body)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			resp, body := e.Do(t, "POST", "/v1/intake", e.portal, reqBody)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes: status %d in %v, %.1f MiB allocated", len(reqBody), resp.StatusCode, took.Round(time.Millisecond), float64(alloc)/(1<<20))
			if !slices.Contains(tc.want, resp.StatusCode) {
				t.Fatalf("status %d, want one of %v: %.300s", resp.StatusCode, tc.want, body)
			}
			if bound := allocBound(len(reqBody)); alloc > bound {
				t.Errorf("the request allocated %d MiB, more than %d MiB for %d bytes sent", alloc>>20, bound>>20, len(reqBody))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			var p struct {
				Type, Title, Detail string
				Report              *report.Report
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Type == "" || p.Detail == "" {
				t.Fatalf("not a problem document (%v): %.300s", err, body)
			}
			if resp.StatusCode == http.StatusUnprocessableEntity {
				if p.Report == nil || p.Report.Indication == report.TotalPassed {
					t.Errorf("422 without a failing report: %.300s", body)
				}
			}
		})
	}
}

// manyAttributes returns n distinct attributes for one element.
func manyAttributes(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ` a%d="1"`, i)
	}
	return b.String()
}

// TestSlowBodyIsCutOff: a client that sends its headers and then trickles
// nothing of the body it announced (slowloris on the body) is answered and
// disconnected once the read timeout passes, instead of holding a handler
// and a connection for as long as it likes.
func TestSlowBodyIsCutOff(t *testing.T) {
	e := startRA(t, apitest.Options{Configure: func(c *config.Config) { c.HTTP.ReadTimeout = 300 * time.Millisecond }})
	for _, route := range []string{"/v1/intake", "/v1/certificates"} {
		t.Run(route, func(t *testing.T) {
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			head := "POST " + route + " HTTP/1.1\r\nHost: esig\r\nAuthorization: Bearer " + e.AdminToken +
				"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"document\":\""
			if _, err := conn.Write([]byte(head)); err != nil {
				t.Fatal(err)
			}
			// The client's own deadline is far beyond the server's read
			// timeout: reaching it means the server kept the connection.
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			out, err := io.ReadAll(bufio.NewReader(conn))
			if err != nil {
				t.Fatalf("the server kept a client that never sent its body (read: %v)", err)
			}
			if len(out) > 0 && !strings.HasPrefix(string(out), "HTTP/1.1 4") {
				t.Errorf("answer to an unfinished body: %.200s", out)
			}
		})
	}
}
