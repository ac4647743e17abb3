package reported

import (
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/internal/xmldoc"
)

func render(t *testing.T, doc string, remove func(*xmldoc.Element)) string {
	t.Helper()
	root, err := xmldoc.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	remove(root)
	return root.Render()
}

func TestRemoveRuntime(t *testing.T) {
	tests := []struct {
		kind      string
		doc, want string
	}{
		{"domain",
			`<domain type="kvm" id="3"><devices><interface type="network"><target dev="vnet2"/><alias name="net0"/><address type="pci" slot="0x01"/></interface><interface type="ethernet"><target dev="tap-web"/></interface></devices><seclabel type="dynamic"/></domain>`,
			"<domain type=\"kvm\">\n  <devices>\n    <interface type=\"network\">\n      <address slot=\"0x01\" type=\"pci\"/>\n    </interface>\n    <interface type=\"ethernet\">\n      <target dev=\"tap-web\"/>\n    </interface>\n  </devices>\n</domain>\n"},
		{"pool",
			`<pool type="dir"><capacity unit="bytes">10</capacity><allocation unit="bytes">1</allocation><available unit="bytes">9</available><target><path>/p</path></target></pool>`,
			"<pool type=\"dir\">\n  <target>\n    <path>/p</path>\n  </target>\n</pool>\n"},
		{"volume",
			`<volume type="file"><capacity unit="bytes">10</capacity><allocation unit="bytes">1</allocation><physical unit="bytes">1</physical><target><path>/p/v</path><timestamps><atime>1.0</atime><btime>0</btime></timestamps></target></volume>`,
			"<volume type=\"file\">\n  <capacity unit=\"bytes\">10</capacity>\n  <target>\n    <path>/p/v</path>\n  </target>\n</volume>\n"},
	}
	for _, tt := range tests {
		if got := render(t, tt.doc, RemoveRuntime); got != tt.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tt.kind, got, tt.want)
		}
	}
}

func TestRemoveAssigned(t *testing.T) {
	doc := `<domain><devices><disk type="file"><address type="drive" unit="0"/></disk></devices></domain>`
	want := "<domain>\n  <devices>\n    <disk type=\"file\"/>\n  </devices>\n</domain>\n"
	if got := render(t, doc, RemoveAssigned); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRemoveStorageReport(t *testing.T) {
	doc := "<volume type=\"file\">\n<name>v</name>\n<allocation>1</allocation>\n<target><path>/p/v</path><timestamps><btime>0</btime></timestamps></target>\n<backingStore><path>/p/b</path>\n<timestamps><atime>1.0</atime></timestamps></backingStore>\n</volume>"
	root, err := xmldoc.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	removed := RemoveStorageReport(root)
	want := "allocation (line 3), target/timestamps (line 4), backingStore/timestamps (line 6)"
	if got := strings.Join(removed, ", "); got != want {
		t.Errorf("removed %s, want %s", got, want)
	}
	if got := root.Render(); strings.Contains(got, "timestamps") || strings.Contains(got, "allocation") {
		t.Errorf("left in:\n%s", got)
	}
	domain, _ := xmldoc.Parse([]byte(`<domain><allocation/></domain>`))
	if removed := RemoveStorageReport(domain); removed != nil {
		t.Errorf("a domain: removed %v", removed)
	}
}
