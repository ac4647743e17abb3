package apply

import (
	"fmt"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// The same value written another way compares equal, both ways; a
// different value does not.
func TestSameValueWrittenOtherwise(t *testing.T) {
	tests := []struct {
		name       string
		kind       compiler.Kind
		a, b       string
		equivalent bool
	}{
		{"memory in MiB and KiB", compiler.KindDomain,
			`<domain><memory unit="MiB">32</memory></domain>`,
			`<domain><memory unit="KiB">32768</memory></domain>`, true},
		{"memory without a unit is KiB", compiler.KindDomain,
			`<domain><memory>32768</memory></domain>`,
			`<domain><memory unit="MiB">32</memory></domain>`, true},
		{"memory that differs", compiler.KindDomain,
			`<domain><memory unit="MiB">32</memory></domain>`,
			`<domain><memory unit="KiB">32769</memory></domain>`, false},
		{"hex and decimal port", compiler.KindDomain,
			`<domain><devices><controller type="pci" model="pcie-root-port"><target chassis="1" port="0x8"/></controller></devices></domain>`,
			`<domain><devices><controller type="pci" model="pcie-root-port"><target chassis="1" port="8"/></controller></devices></domain>`, true},
		{"hex port that differs", compiler.KindDomain,
			`<domain><devices><controller type="pci" model="pcie-root-port"><target port="0x10"/></controller></devices></domain>`,
			`<domain><devices><controller type="pci" model="pcie-root-port"><target port="10"/></controller></devices></domain>`, false},
		{"names are not numbers", compiler.KindDomain,
			`<domain><name>010</name></domain>`,
			`<domain><name>8</name></domain>`, false},
		{"pool path with a trailing slash", compiler.KindPool,
			`<pool type="dir"><target><path>/var/lib/nvx/</path></target></pool>`,
			`<pool type="dir"><target><path>/var/lib/nvx</path></target></pool>`, true},
		{"pool path with //", compiler.KindPool,
			`<pool type="dir"><target><path>/var//lib/nvx</path></target></pool>`,
			`<pool type="dir"><target><path>/var/lib/nvx</path></target></pool>`, true},
		{"pool path that differs", compiler.KindPool,
			`<pool type="dir"><target><path>/var/lib/nvx/a</path></target></pool>`,
			`<pool type="dir"><target><path>/var/lib/nvx</path></target></pool>`, false},
		{"mode with and without a leading 0", compiler.KindPool,
			`<pool type="dir"><target><path>/p</path><permissions><mode>755</mode></permissions></target></pool>`,
			`<pool type="dir"><target><path>/p</path><permissions><mode>0755</mode></permissions></target></pool>`, true},
		{"mode that differs", compiler.KindPool,
			`<pool type="dir"><target><path>/p</path><permissions><mode>755</mode></permissions></target></pool>`,
			`<pool type="dir"><target><path>/p</path><permissions><mode>0750</mode></permissions></target></pool>`, false},
		{"pool capacity is libvirt's", compiler.KindPool,
			`<pool type="dir"><capacity unit="GiB">1</capacity><target><path>/p</path></target></pool>`,
			`<pool type="dir"><capacity unit="bytes">52576194560</capacity><allocation>1</allocation><available>2</available><target><path>/p</path></target></pool>`, true},
		{"volume sizes and timestamps are libvirt's", compiler.KindVolume,
			`<volume><name>v</name><capacity unit="GiB">1</capacity><target><path>/p/v</path></target></volume>`,
			`<volume><name>v</name><capacity>1073741824</capacity><allocation>4096</allocation><physical>4096</physical><target><path>/p/v</path><timestamps><btime>1.2</btime></timestamps></target></volume>`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := equivalent(tt.kind, tt.a, tt.b); got != tt.equivalent {
				t.Errorf("equivalent(a, b) = %v, want %v", got, tt.equivalent)
			}
			if got := equivalent(tt.kind, tt.b, tt.a); got != tt.equivalent {
				t.Errorf("equivalent(b, a) = %v, want %v", got, tt.equivalent)
			}
		})
	}
}

// libvirt's additions (an address, an alias, a security label, a running
// domain's id) and nixvirt's mark do not make a definition differ; other
// programs' metadata does.
func TestLibvirtAdditionsAreNotChanges(t *testing.T) {
	want := `<domain type="kvm"><name>web</name><devices><interface type="network"><source network="lab"/></interface></devices></domain>`
	live := `<domain type="kvm" id="4"><name>web</name>
  <metadata><nixvirt:managed xmlns:nixvirt="` + markNS + `" hash="x">…</nixvirt:managed></metadata>
  <devices><interface type="network"><source network="lab"/><target dev="vnet3"/><alias name="net0"/>
    <address type="pci" domain="0x0000" bus="0x01" slot="0x00" function="0x0"/></interface></devices>
  <seclabel type="dynamic" model="apparmor"/></domain>`
	if !equivalent(compiler.KindDomain, live, want) {
		t.Errorf("libvirt's additions count as a change")
	}
	other := strings.Replace(live, "</metadata>", `<app:x xmlns:app="https://example.org/app">1</app:x></metadata>`, 1)
	if equivalent(compiler.KindDomain, other, want) {
		t.Errorf("another program's metadata is not compared")
	}
	tap := strings.Replace(live, "vnet3", "tap-web", 1)
	if equivalent(compiler.KindDomain, tap, want) {
		t.Errorf("an interface name the user chose is not compared")
	}
}

func TestUnifiedDiff(t *testing.T) {
	if d := unifiedDiff("current", "wanted", "a\nb\n", "a\nb\n"); d != "" {
		t.Errorf("equal texts: %q", d)
	}
	d := unifiedDiff("current", "wanted", "a\nb\nc\n", "a\nx\nc\n")
	want := "--- current\n+++ wanted\n@@ -1,3 +1,3 @@\n a\n-b\n+x\n c\n"
	if d != want {
		t.Errorf("diff:\n%s\nwant:\n%s", d, want)
	}
}

// A configuration that writes what nixvirt defined another way plans no
// redefine and no restart; one with a pool path, mode and capacity written
// otherwise than libvirt keeps them plans nothing on its second run.
func TestPlanSeesNoChangeInValuesWrittenOtherwise(t *testing.T) {
	th := newTestHost(t)
	const dom = `domains: small: {
		definition: {type: "test", os: type: "hvm", memory: %s}
		active: true
	}`
	th.apply(fmt.Sprintf(dom, `{count: 32, unit: "MiB"}`))
	if got := actions(th.plan(fmt.Sprintf(dom, `{count: 32768, unit: "KiB"}`))); strings.Contains(got, "redefine") || strings.Contains(got, "restart") {
		t.Errorf("memory written in KiB: %s", got)
	}
	const pool = `pools: nvxxml: {
		definition: {
			type: "dir"
			capacity: {count: 1, unit: "GiB"}
			target: {path: "/var//lib/nvxxml/", permissions: mode: octal: "755"}
		}
		active: true
	}`
	th.apply(pool)
	if p := th.plan(pool); p.HasChanges() {
		t.Errorf("second plan of a pool: %s", actions(p))
	}
}

// Attributes in another program's namespace are compared like any other.
func TestNamespacedAttributes(t *testing.T) {
	a := `<domain><metadata><app:x xmlns:app="https://example.org/app" app:v="1"/></metadata></domain>`
	if !equivalent(compiler.KindDomain, a, a) {
		t.Error("a definition differs from itself")
	}
	if equivalent(compiler.KindDomain, a, strings.Replace(a, `app:v="1"`, `app:v="2"`, 1)) {
		t.Error("a namespaced attribute is not compared")
	}
}
