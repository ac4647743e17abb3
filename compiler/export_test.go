package compiler

import (
	"strings"
	"testing"

	"cuelang.org/go/cue"
)

// exportDocs are one document of each kind, with the value forms a user
// writes: yes/no and on/off booleans, numbers, a list, a lifted child
// (os/type), an empty element and raw metadata.
var exportDocs = []struct {
	kind Kind
	src  string
	want []string // substrings of the XML
}{
	{KindDomain, `type: "test", name: "web", memory: {count: 1, unit: "GiB"}
os: {type: "hvm", arch: "x86_64"}
features: {acpi: {}, pae: true}
metadata: "<x:a xmlns:x=\"urn:x\">1</x:a>"
devices: disk: [
	{type: "file", device: "disk", source: file: "/a.qcow2", target: dev: "vda", readonly: true},
	{type: "file", device: "cdrom", source: file: "/b.iso", target: dev: "sda"},
]
devices: interface: {type: "network", source: network: "default", link: state: "up"}`,
		[]string{`<memory unit="GiB">1</memory>`, `<type arch="x86_64">hvm</type>`, "<acpi></acpi>", "<pae></pae>",
			`<x:a xmlns:x="urn:x">1</x:a>`, `<source file="/b.iso">`, "<readonly></readonly>", `<link state="up">`}},
	{KindNetwork, `name: "lab", bridge: {name: "virbr-ct1", stp: true, delay: 0}, ip: {address: "10.231.0.1", netmask: "255.255.255.0"}`,
		[]string{`stp="on"`, `delay="0"`, `<ip address="10.231.0.1"`}},
	{KindPool, `type: "dir", name: "vms", target: path: "/tmp/ct"`, []string{`<pool type="dir">`, "<path>/tmp/ct</path>"}},
	{KindVolume, `name: "a.qcow2", capacity: {count: 2, unit: "GiB"}, target: format: type: "qcow2"`,
		[]string{`<capacity unit="GiB">2</capacity>`, `<format type="qcow2">`}},
}

// TestExportEachKind: each kind's document is checked, exported as
// libvirtxml writes it (so libvirt reads it as written), and imports back
// to the same document; both schema variants give the same XML.
func TestExportEachKind(t *testing.T) {
	for _, tc := range exportDocs {
		t.Run(string(tc.kind), func(t *testing.T) {
			var first string
			for _, s := range bothSchemas(t) {
				v := s.Context().CompileString(tc.src, cue.Filename("doc.cue"))
				u, err := s.Check(v, tc.kind)
				if err != nil {
					t.Fatalf("%s: Check: %s", variant(s), printed(err))
				}
				x, err := s.Export(u, tc.kind)
				if err != nil {
					t.Fatalf("%s: Export: %s", variant(s), printed(err))
				}
				if first == "" {
					first = x
				} else if x != first {
					t.Errorf("the variants differ:\n%s\n%s", first, x)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(first, w) {
					t.Errorf("no %s in\n%s", w, first)
				}
			}
			canon, err := Canonical(tc.kind, first)
			if err != nil || canon+"\n" != first {
				t.Errorf("export is not libvirtxml's own form (%v):\n%s\n%s", err, first, canon)
			}
			if again := roundTripXML(t, first, tc.kind); again != first {
				t.Errorf("import and export again:\n%s\nwant\n%s", again, first)
			}
		})
	}
}

// roundTripXML imports a document, formats it as CUE and exports it again,
// as an XML definition of a configuration goes.
func roundTripXML(t *testing.T, doc string, k Kind) string {
	t.Helper()
	s := mustSchema(t)
	got, x, err := s.Import("doc.xml", []byte(doc))
	if err != nil || got != k {
		t.Fatalf("Import: %v, %v", got, err)
	}
	src, err := FormatCUE(x, "imported")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(src), "// imported\n") {
		t.Errorf("no comment on top:\n%s", src)
	}
	u, err := s.Check(s.Context().CompileBytes(src, cue.Filename("doc.cue")), k)
	if err != nil {
		t.Fatalf("Check of the import: %s\n%s", printed(err), src)
	}
	out, err := s.Export(u, k)
	if err != nil {
		t.Fatalf("Export of the import: %s", printed(err))
	}
	return out
}

// TestExportMistakes: what Check accepts but cannot be written as the user
// means it is an error at the user's line; nothing is dropped.
func TestExportMistakes(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind Kind
		src  string
		path string
		line int
	}{
		{"attribute libvirtxml drops", KindDomain,
			"type: \"kvm\", name: \"x\", os: type: \"hvm\"\ndevices: disk: {type: \"file\", device: \"disk\", source: dev: \"/dev/sda\", target: dev: \"vda\"}",
			"devices.disk.source", 2},
		{"metadata that is not XML", KindDomain,
			"type: \"kvm\", name: \"x\", os: type: \"hvm\"\nmetadata: \"<a>\"", "metadata", 2},
		{"two spellings of one element", KindDomain,
			"type: \"kvm\", name: \"x\", os: type: \"hvm\"\n\"qemu-commandline\": {arg: {value: \"-a\"}, \"qemu-arg\": {value: \"-b\"}}",
			`"qemu-commandline".arg`, 2},
	} {
		for _, s := range bothSchemas(t) {
			t.Run(variant(s)+"/"+tc.name, func(t *testing.T) {
				u, err := s.Check(s.Context().CompileString(tc.src, cue.Filename("doc.cue")), tc.kind)
				if err == nil {
					_, err = s.Export(u, tc.kind)
				}
				errorAt(t, err, tc.path, "doc.cue:"+string(rune('0'+tc.line)))
			})
		}
	}
}

// TestCheckMistakes: Check reports mistakes at the user's line, a missing
// required field at the value that lacks it, and a template's missing
// argument as the argument.
func TestCheckMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, src, path string
		line            int
	}{
		{"unknown field", "type: \"kvm\", name: \"x\"\nmemroy: 1", "memroy", 2},
		{"missing required field in a list entry", "type: \"kvm\", name: \"x\"\ndevices: disk: [\n\t{type: \"file\", device: \"disk\", target: dev: \"vda\"},\n\t{type: \"file\"}]",
			"devices.disk.1", 4},
		{"template argument", "import \"nixvirt.dev/nixvirt/templates\"\n\ntemplates.#Bridge & {#args: {uuid: \"5f0e8a47-66b2-4d59-9c3c-2f1b1c8e9d01\"}}", "#args.subnet_byte", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSchema(t)
			exact, _ := s.Precise()
			kind := KindDomain
			if strings.Contains(tc.src, "#Bridge") {
				kind = KindNetwork
			}
			dir := writeTree(t, t.TempDir(), map[string]string{"doc.cue": tc.src})
			v, err := exact.Load(Input{Dir: dir, Args: []string{"doc.cue"}}, "")
			if err == nil {
				_, err = exact.Check(v, kind)
			}
			errorAt(t, err, tc.path, "doc.cue:"+string(rune('0'+tc.line)))
		})
	}
}
