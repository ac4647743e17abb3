package compiler

import (
	"strings"
	"testing"
)

// TestImportEachKind: XML of each kind becomes CUE in nixvirt's
// vocabulary: yes/no and on/off as booleans, numbers as integers where the
// field takes no free text, repeated elements as a list, lifted children
// (os/type) as fields, metadata as raw XML.
func TestImportEachKind(t *testing.T) {
	s := mustSchema(t)
	for _, tc := range []struct {
		kind Kind
		xml  string
		want []string // lines of the formatted CUE
	}{
		{KindDomain, `<domain type="kvm">
  <name>web</name>
  <metadata><x:a xmlns:x="urn:x">1</x:a></metadata>
  <memory unit="GiB">1</memory>
  <os><type arch="x86_64">hvm</type><kernel>/boot/vmlinuz</kernel></os>
  <features><acpi/></features>
  <devices>
    <disk type="file" device="disk"><source file="/a"/><target dev="vda"/><readonly/></disk>
    <disk type="file" device="cdrom"><source file="/b"/><target dev="sda"/></disk>
  </devices>
</domain>`, []string{`type: "kvm"`, `count: 1`, `arch: "x86_64"`, `acpi: {}`, `readonly: {}`, `kernel: path: "/boot/vmlinuz"`, `disk: [{`, `metadata: "<x:a xmlns:x=\"urn:x\">1</x:a>"`}},
		{KindNetwork, `<network><name>lab</name><bridge name="virbr-ct2" stp="on" delay="0"/></network>`,
			[]string{`stp: true`, `delay: 0`}},
		{KindPool, `<pool type="dir"><name>vms</name><target><path>/tmp/ct</path></target></pool>`,
			[]string{`path: "/tmp/ct"`}},
		{KindVolume, `<volume><name>a</name><capacity unit="G">2</capacity><target><format type="raw"/></target></volume>`,
			[]string{`count: 2`, `type: "raw"`}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			k, x, err := s.Import("doc.xml", []byte(tc.xml))
			if err != nil || k != tc.kind {
				t.Fatalf("Import: %v, %v", k, err)
			}
			src, err := FormatCUE(x, "")
			if err != nil {
				t.Fatal(err)
			}
			flat := strings.Join(strings.Fields(string(src)), " ")
			for _, w := range tc.want {
				if !strings.Contains(flat, w) {
					t.Errorf("no %s in\n%s", w, src)
				}
			}
			want, err := Canonical(tc.kind, tc.xml)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Canonical(tc.kind, roundTripXML(t, tc.xml, tc.kind))
			if err != nil || got != want {
				t.Errorf("round trip (%v):\n%s\nwant\n%s", err, got, want)
			}
		})
	}
}

// TestImportMistakes: whatever nixvirt's schema has no field for is an
// error naming the file and the element's line.
func TestImportMistakes(t *testing.T) {
	s := mustSchema(t)
	for _, tc := range []struct {
		name, xml string
		line      string // the message's "file:line:" prefix
		names     string // what the message names
	}{
		{"unknown element", "<domain type=\"kvm\">\n  <name>x</name>\n  <devices>\n    <frobnicator/>\n  </devices>\n</domain>", "doc.xml:4:", "<frobnicator>"},
		{"unknown attribute", "<network>\n  <name>n</name>\n  <bridge name=\"virbr9\" colour=\"blue\"/>\n</network>", "doc.xml:3:", `"colour"`},
		{"unknown attribute of a lifted child", "<domain type=\"kvm\">\n<name>x</name>\n<os>\n<type colour=\"blue\">hvm</type>\n</os>\n</domain>", "doc.xml:4:", `"colour"`},
		{"text where there is none", "<network>\n  <name>n</name>\n  <bridge name=\"b\">text</bridge>\n</network>", "doc.xml:3:", "text"},
		{"content in an empty element", "<domain type=\"kvm\">\n<name>x</name>\n<features>\n<acpi><x/></acpi>\n</features>\n</domain>", "doc.xml:4:", "<acpi>"},
		{"children in a text element", "<domain type=\"kvm\">\n<name>x<y/></name>\n</domain>", "doc.xml:2:", "<name>"},
		{"not libvirt", "<node>\n<domain/></node>", "doc.xml:1:", "<node>"},
		{"not XML", "<domain type=\"kvm\">\n  <name>x</name\n</domain>", "doc.xml:3:", "not XML"},
		// Text where the field takes none is refused, not written as
		// text that would not vet: numbers, wrapped numbers, attributes.
		{"text for a number", "<domain type=\"kvm\">\n<name>x</name>\n<memory unit=\"KiB\">lots</memory>\n</domain>", "doc.xml:3:", `<memory> is "lots": it takes a whole number (domain/memory)`},
		{"text for a number in a lifted child", "<domain type=\"kvm\">\n<name>x</name>\n<vcpu placement=\"static\">two</vcpu>\n</domain>", "doc.xml:3:", `<vcpu> is "two": it takes a whole number (domain/vcpu)`},
		{"text for a wrapped number", "<domain type=\"kvm\">\n<name>x</name>\n<iothreads>many</iothreads>\n</domain>", "doc.xml:3:", `<iothreads> is "many": it takes a whole number`},
		{"a number attribute", "<network>\n<name>n</name>\n<mtu size=\"big\"/>\n</network>", "doc.xml:3:", `attribute "size" of <mtu> is "big": it takes a whole number (network/mtu)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.Import("doc.xml", []byte(tc.xml))
			if err == nil || !strings.HasPrefix(err.Error(), tc.line) || !strings.Contains(err.Error(), tc.names) {
				t.Errorf("error %v, want %s … %s", err, tc.line, tc.names)
			}
		})
	}
}

// TestImportRefusesWhatDoesNotVet: a value the schema refuses, a word
// outside a set, a yes/no that is neither, is an error at the XML file's
// line, as vet says it of an XML definition: import never writes CUE that
// does not vet.
func TestImportRefusesWhatDoesNotVet(t *testing.T) {
	s := mustSchema(t)
	for _, tc := range []struct{ name, xml, want string }{
		{"yes/no", "<domain type=\"kvm\">\n<name>x</name>\n<memory>1</memory>\n<os><type>hvm</type></os>\n<clock offset=\"utc\">\n<timer name=\"rtc\" present=\"maybe\"/>\n</clock>\n</domain>", "./doc.xml:6:"},
		{"a word outside the set", "<domain type=\"kvm\">\n<name>x</name>\n<memory>1</memory>\n<os><type>hvm</type></os>\n<vcpu placement=\"sometimes\">2</vcpu>\n</domain>", "./doc.xml:5:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, x, err := s.Import("doc.xml", []byte(tc.xml))
			if err == nil {
				t.Fatalf("imported: %v", x)
			}
			var out strings.Builder
			PrintError(&out, err, t.TempDir())
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("error\n%s\nnames no %s", out.String(), tc.want)
			}
		})
	}
}
