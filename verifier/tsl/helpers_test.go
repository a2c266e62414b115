package tsl

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"esig/verifier/tsl/tsltest"
)

// Shared files of the project's engineers, read in place (never copied):
// real trusted lists and the ETSI/W3C schemas.
const (
	corpusDir = "../../../shared/corpus/tsl"
	schemaDir = "../../../shared/schemas"
)

func corpusFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Skipf("corpus file %s not available (%v); skipping", name, err)
	}
	return b
}

// at is a time inside the default synthetic list's validity.
var at = time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)

func mustParse(t testing.TB, data []byte) *List {
	t.Helper()
	l, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return l
}

// validateSchema runs xmllint on data against the TS 119 612 schema and its
// two extension schemas (through a wrapper that imports all three, so that
// the Qualifications and additional-types extensions are validated too,
// not skipped by the lax wildcard of ExtensionType).
func validateSchema(t *testing.T, data []byte) error {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("xmllint not found (Debian package libxml2-utils) and CI is set")
		}
		t.Skip("xmllint not found (Debian package libxml2-utils); skipping schema validation")
	}
	abs, err := filepath.Abs(schemaDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "ts_119612v020401.xsd")); err != nil {
		t.Skipf("schemas not available (%v); skipping", err)
	}
	dir := t.TempDir()
	var imports strings.Builder
	for ns, file := range map[string]string{
		NamespaceTSL:             "ts_119612v020401.xsd",
		NamespaceAdditionalTypes: "ts_119612v020401_additionaltypes.xsd",
		NamespaceSIE:             "ts_119612v020401_sie.xsd",
	} {
		imports.WriteString(`<xsd:import namespace="` + ns + `" schemaLocation="file://` + filepath.ToSlash(filepath.Join(abs, file)) + `"/>`)
	}
	wrapper := `<?xml version="1.0"?><xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:esig:test:wrapper">` +
		imports.String() + `</xsd:schema>`
	xsd := filepath.Join(dir, "wrapper.xsd")
	doc := filepath.Join(dir, "list.xml")
	if err := os.WriteFile(xsd, []byte(wrapper), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(doc, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--nonet", "--noout", "--schema", xsd, doc).CombinedOutput()
	if err != nil {
		return fmt.Errorf("xmllint rejects the list: %v\n%s", err, out)
	}
	return nil
}

// newPKI builds the test world shared by a test's subtests.
func newPKI(t testing.TB) *tsltest.PKI { return tsltest.New(t) }

// replace returns data with the first from replaced by to, failing the test
// when from is absent (a case that alters nothing proves nothing).
func replace(t testing.TB, data []byte, from, to string) []byte {
	t.Helper()
	out := bytes.Replace(data, []byte(from), []byte(to), 1)
	if bytes.Equal(out, data) {
		t.Fatalf("%q not found in the list", from)
	}
	return out
}
