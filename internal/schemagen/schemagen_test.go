package schemagen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A grammar in the shape of libvirt's: a definition reached by ref, a
// choice between two element patterns of one name (merged into one
// shape), a yes/no attribute, an enumeration, a numeric pattern, an
// element that repeats, an optional one, and text with an attribute.
const grammar = `<?xml version="1.0"?>
<grammar xmlns="http://relaxng.org/ns/structure/1.0" datatypeLibrary="http://www.w3.org/2001/XMLSchema-datatypes">
  <start><ref name="thing"/></start>
  <define name="thing">
    <element name="domain">
      <attribute name="type"><choice><value>kvm</value><value>qemu</value></choice></attribute>
      <element name="name"><text/></element>
      <optional>
        <element name="memory">
          <optional><attribute name="unit"><text/></attribute></optional>
          <ref name="unsignedLong"/>
        </element>
      </optional>
      <zeroOrMore>
        <choice>
          <element name="disk">
            <attribute name="type"><value>file</value></attribute>
            <element name="source"><attribute name="file"><text/></attribute></element>
          </element>
          <element name="disk">
            <attribute name="type"><value>block</value></attribute>
            <element name="source"><attribute name="dev"><text/></attribute></element>
            <optional><element name="readonly"><empty/></element></optional>
          </element>
        </choice>
      </zeroOrMore>
      <optional>
        <element name="pm"><attribute name="enabled"><ref name="virYesNo"/></attribute></element>
      </optional>
    </element>
  </define>
  <define name="unsignedLong"><data type="string"><param name="pattern">[0-9]+</param></data></define>
  <define name="virYesNo"><choice><value>yes</value><value>no</value></choice></define>
</grammar>
`

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "domain.rng"), []byte(grammar), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := Generate(dir, "libvirt test", Kind{"domain.rng", "#Domain"})
	if err != nil {
		t.Fatal(err)
	}
	src := string(out)
	for _, want := range []string{
		// required attribute and element; an enumeration as one regexp
		`type!: string & =~"^(?:kvm|qemu)$" @xml(attr)`,
		`name!: string`,
		// text beside an attribute is a "count" for numbers (NixVirt)
		// (an optional field takes null: absent)
		`count?: int & >=0 | null @xml(text)`,
		// one element or a list, with both <disk> patterns merged
		`disk?: (#Domain_disk | null) | [...#Domain_disk] @xml(elem,def=#Domain_disk)`,
		`type!: string & =~"^(?:file|block)$" @xml(attr)`,
		`file?:`,
		`dev?:`,
		// an empty element
		`readonly?: #Empty | null @xml(empty)`,
		// yes/no is a boolean
		`enabled!: bool | "yes" | "no" @xml(attr,yesno)`,
	} {
		if !strings.Contains(strings.Join(strings.Fields(src), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("generated schema lacks %q:\n%s", want, src)
		}
	}
	// The <source> of a file disk has file, of a block disk dev: merged,
	// and neither is required.
	if strings.Contains(src, "file!:") || strings.Contains(src, "dev!:") {
		t.Errorf("an attribute of only one alternative is required:\n%s", src)
	}
}

func TestValueExpr(t *testing.T) {
	for _, tc := range []struct {
		vt    valueType
		expr  string
		style string
	}{
		{valueType{enums: []string{"on", "off"}}, `bool | "on" | "off"`, "onoff"},
		{valueType{enums: []string{"auto_glz", "off"}}, `false | string & =~"^(?:auto_glz|off)$"`, "onoff"},
		{valueType{ints: []intRange{{"0", "255"}}}, `int & >=0 & <=255`, ""},
		{valueType{anyString: true}, `string`, ""},
		{valueType{anyString: true, intText: true}, `int | string`, ""},
		{valueType{patterns: []string{"[a-f]+"}, emptyOK: true}, `string & =~"^(?:(?:[a-f]+)|)$"`, ""},
		{valueType{enums: []string{"0", "1"}}, `0 | 1 | string & =~"^(?:0|1)$"`, ""},
	} {
		expr, style := valueExpr(&tc.vt)
		if expr != tc.expr || style != tc.style {
			t.Errorf("%+v: got %q %q, want %q %q", tc.vt, expr, style, tc.expr, tc.style)
		}
	}
}

// libvirt's domain.rng includes domaincommon.rng and extends a definition
// with combine="choice" (domainoverrides.rng): both must be honoured.
func TestIncludeAndCombine(t *testing.T) {
	dir := t.TempDir()
	common := `<grammar xmlns="http://relaxng.org/ns/structure/1.0">
  <define name="net"><element name="network"><element name="name"><text/></element><ref name="extra"/></element></define>
  <define name="extra"><notAllowed/></define>
</grammar>`
	top := `<grammar xmlns="http://relaxng.org/ns/structure/1.0">
  <start><ref name="net"/></start>
  <include href="common.rng"/>
  <define name="extra" combine="choice"><optional><element name="mtu"><attribute name="size"><text/></attribute></element></optional></define>
</grammar>`
	os.WriteFile(filepath.Join(dir, "common.rng"), []byte(common), 0o644)
	os.WriteFile(filepath.Join(dir, "network.rng"), []byte(top), 0o644)
	out, _, err := Generate(dir, "libvirt test", Kind{"network.rng", "#Network"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "mtu?:") || !strings.Contains(string(out), "name!:") {
		t.Fatalf("include or combine lost:\n%s", out)
	}
}
