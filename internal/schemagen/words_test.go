package schemagen

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPatternWords: a pattern is said in words after the grammar's type
// it comes from, the outermost that has words (ipAddr, not the ipv4Addr
// inside it; pciBus, which has none, as the uint8 it is), as an element's
// text and as an attribute; a pattern of no named type, and one that
// two types of different words share, have none.
func TestPatternWords(t *testing.T) {
	const grammar = `<grammar xmlns="http://relaxng.org/ns/structure/1.0">
  <start>
    <element name="network">
      <optional><element name="uuid"><ref name="UUID"/></element></optional>
      <optional><element name="ip"><attribute name="address"><ref name="ipAddr"/></attribute></element></optional>
      <optional><element name="genid"><choice><ref name="UUID"/><empty/></choice></element></optional>
      <optional><element name="bus"><attribute name="id"><ref name="pciBus"/></attribute></element></optional>
      <optional><element name="serial"><data type="string"><param name="pattern">[A-Z]+</param></data></element></optional>
      <optional><element name="vcpus"><attribute name="set"><choice><value>auto</value><ref name="cpuset"/></choice></attribute></element></optional>
    </element>
  </start>
  <define name="UUID"><data type="string"><param name="pattern">[a-f0-9]{32}</param></data></define>
  <define name="ipAddr"><choice><ref name="ipv4Addr"/><ref name="ipv6Addr"/></choice></define>
  <define name="ipv4Addr"><data type="string"><param name="pattern">[0-9.]+</param></data></define>
  <define name="ipv6Addr"><data type="string"><param name="pattern">[0-9a-f:]+</param></data></define>
  <define name="pciBus"><ref name="uint8"/></define>
  <define name="uint8"><data type="string"><param name="pattern">0x[0-9a-f]{1,2}</param></data></define>
  <define name="cpuset"><data type="string"><param name="pattern">[0-9,^-]+</param></data></define>
</grammar>
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "network.rng"), []byte(grammar), 0o644); err != nil {
		t.Fatal(err)
	}
	src, words, err := Generate(dir, "libvirt test", Kind{"network.rng", "#Network"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		`^(?:(?:[a-f0-9]{32}))$`:           "a UUID",
		`^(?:(?:[a-f0-9]{32})|)$`:          "a UUID or empty",
		`^(?:(?:[0-9.]+)|(?:[0-9a-f:]+))$`: "an IP address",
		`^(?:(?:0x[0-9a-f]{1,2}))$`:        "a hexadecimal byte (0x00 to 0xff)",
		`^(?:auto|(?:[0-9,^-]+))$`:         `"auto" or a set of CPUs (such as 0-3,^2)`,
	}
	for re, w := range want {
		if words[re] != w {
			t.Errorf("words of %s: %q, want %q", re, words[re], w)
		}
		if !strings.Contains(string(src), "=~"+strconv.Quote(re)) {
			t.Errorf("the schema has no pattern %s:\n%s", re, src)
		}
	}
	if len(words) != len(want) {
		t.Errorf("words for patterns of no named type: %q", words)
	}

	// One pattern, two types of different words: none.
	both := map[string]string{"^x$": "a UUID"}
	if w := MergeWords(both, "^x$", "an IP address"); w != "" {
		t.Errorf("a pattern of two types is said as %q", w)
	}
	if w := MergeWords(both, "^x$", "a UUID"); w != "a UUID" {
		t.Errorf("a pattern of one type twice is said as %q", w)
	}
	out, err := PatternWordsGo(map[string]string{"^a$": "an A", "^b$": ""}, "libvirt test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "// Code generated") || !strings.Contains(string(out), `"^a$": "an A"`) || strings.Contains(string(out), `"^b$"`) {
		t.Errorf("the Go table:\n%s", out)
	}
}
