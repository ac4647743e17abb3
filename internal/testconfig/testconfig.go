// Package testconfig writes the configurations the benchmarks measure, so
// that the compiler's, the command's and the benchmark script's figures
// are of the same input.
package testconfig

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Domains is a whole-host configuration of n typical domains on
// qemu:///system, in CUE: a virtio disk on a pool volume, a network card,
// the guest agent channel and a virtio RNG.
func Domains(n int) string {
	var b strings.Builder
	b.WriteString("connections: \"qemu:///system\": domains: {\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `"vm%d": definition: {
	type: "kvm"
	uuid: "c7a5fdbd-cdaf-9455-926a-%012d"
	memory: {count: 4, unit: "GiB"}
	vcpu: {placement: "static", count: 2}
	os: {type: "hvm", arch: "x86_64", machine: "q35", boot: dev: "hd"}
	features: {acpi: {}, apic: {}}
	cpu: mode: "host-passthrough"
	devices: {
		emulator: "/usr/bin/qemu-system-x86_64"
		disk: {type: "volume", device: "disk", driver: {name: "qemu", type: "qcow2", cache: "none"}, source: {pool: "vms", volume: "vm%d.qcow2"}, target: {dev: "vda", bus: "virtio"}}
		interface: {type: "network", source: network: "default", model: type: "virtio"}
		channel: {type: "unix", target: {type: "virtio", name: "org.qemu.guest_agent.0"}}
		rng: {model: "virtio", backend: {model: "random", source: "/dev/urandom"}}
	}
}
`, i, i, i)
	}
	b.WriteString("}\n")
	return b.String()
}

// DomainsTemplate is Domains written as a user writes many alike
// guests: one template of their own (#Typical, in plain CUE, importing
// nothing) and a line per domain giving its index and UUID.
func DomainsTemplate(n int) string {
	var b strings.Builder
	b.WriteString(`#Typical: {
	#index: int
	#uuid:  string
	definition: {
		type: "kvm"
		uuid: "c7a5fdbd-cdaf-9455-926a-\(#uuid)"
		memory: {count: 4, unit: "GiB"}
		vcpu: {placement: "static", count: 2}
		os: {type: "hvm", arch: "x86_64", machine: "q35", boot: dev: "hd"}
		features: {acpi: {}, apic: {}}
		cpu: mode: "host-passthrough"
		devices: {
			emulator: "/usr/bin/qemu-system-x86_64"
			disk: {type: "volume", device: "disk", driver: {name: "qemu", type: "qcow2", cache: "none"}, source: {pool: "vms", volume: "vm\(#index).qcow2"}, target: {dev: "vda", bus: "virtio"}}
			interface: {type: "network", source: network: "default", model: type: "virtio"}
			channel: {type: "unix", target: {type: "virtio", name: "org.qemu.guest_agent.0"}}
			rng: {model: "virtio", backend: {model: "random", source: "/dev/urandom"}}
		}
	}
}

connections: "qemu:///system": domains: {
`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\tvm%d: #Typical & {#index: %d, #uuid: \"%012d\"}\n", i, i, i)
	}
	b.WriteString("}\n")
	return b.String()
}

// typicalBody is the body of the i-th typical domain's definition in
// CUE, one field a line, each line indented by indent.
func typicalBody(i int, indent string) string {
	lines := []string{
		`type: "kvm"`,
		fmt.Sprintf(`uuid: "c7a5fdbd-cdaf-9455-926a-%012d"`, i),
		`memory: {count: 4, unit: "GiB"}`,
		`vcpu: {placement: "static", count: 2}`,
		`os: {type: "hvm", arch: "x86_64", machine: "q35", boot: dev: "hd"}`,
		`features: {acpi: {}, apic: {}}`,
		`cpu: mode: "host-passthrough"`,
		`devices: {`,
		`	emulator: "/usr/bin/qemu-system-x86_64"`,
		fmt.Sprintf(`	disk: {type: "volume", device: "disk", driver: {name: "qemu", type: "qcow2", cache: "none"}, source: {pool: "vms", volume: "vm%d.qcow2"}, target: {dev: "vda", bus: "virtio"}}`, i),
		`	interface: {type: "network", source: network: "default", model: type: "virtio"}`,
		`	channel: {type: "unix", target: {type: "virtio", name: "org.qemu.guest_agent.0"}}`,
		`	rng: {model: "virtio", backend: {model: "random", source: "/dev/urandom"}}`,
		`}`,
	}
	return indent + strings.Join(lines, "\n"+indent) + "\n"
}

// DomainsSchemaEach is Domains with each definition unified with
// nixvirt's schema (schemas.#Domain & {…}), as a user writes to have
// their editor and cue vet check each document.
func DomainsSchemaEach(n int) string {
	var b strings.Builder
	b.WriteString("package host\n\nimport \"nixvirt.dev/nixvirt/schemas\"\n\nconnections: \"qemu:///system\": domains: {\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\t\"vm%d\": definition: schemas.#Domain & {\n%s\t}\n", i, typicalBody(i, "\t\t"))
	}
	b.WriteString("}\n")
	return b.String()
}

// DomainsSchemaConfig is Domains as one schemas.#Config & {…}, as
// examples/host is written.
func DomainsSchemaConfig(n int) string {
	var b strings.Builder
	b.WriteString("package host\n\nimport \"nixvirt.dev/nixvirt/schemas\"\n\nschemas.#Config & {\n\tconnections: \"qemu:///system\": domains: {\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\t\t\"vm%d\": definition: {\n%s\t\t}\n", i, typicalBody(i, "\t\t\t"))
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

// DomainsNixvirtTemplate is n Linux guests built from nixvirt's own
// template (templates.#Linux), each with a few arguments: a name, a
// UUID, its system disk on a pool volume and a MAC address.
func DomainsNixvirtTemplate(n int) string {
	var b strings.Builder
	b.WriteString("package host\n\nimport \"nixvirt.dev/nixvirt/templates\"\n\nconnections: \"qemu:///system\": domains: {\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\tvm%d: definition: templates.#Linux & {#args: {name: \"vm%d\", uuid: \"c7a5fdbd-cdaf-9455-926a-%012d\", storage_vol: {pool: \"vms\", volume: \"vm%d.qcow2\"}, net_iface_mac: \"52:54:00:%02x:%02x:%02x\"}}\n",
			i, i, i, i, (i>>16)&0xff, (i>>8)&0xff, i&0xff)
	}
	b.WriteString("}\n")
	return b.String()
}

// Domain is the i-th typical domain of Domains as a JSON value (a map),
// named: NixVirt's attrset of it.
func Domain(i int) map[string]any {
	type m = map[string]any
	return m{
		"type":     "kvm",
		"name":     fmt.Sprintf("vm%d", i),
		"uuid":     fmt.Sprintf("c7a5fdbd-cdaf-9455-926a-%012d", i),
		"memory":   m{"count": 4, "unit": "GiB"},
		"vcpu":     m{"placement": "static", "count": 2},
		"os":       m{"type": "hvm", "arch": "x86_64", "machine": "q35", "boot": m{"dev": "hd"}},
		"features": m{"acpi": m{}, "apic": m{}},
		"cpu":      m{"mode": "host-passthrough"},
		"devices": m{
			"emulator": "/usr/bin/qemu-system-x86_64",
			"disk": m{"type": "volume", "device": "disk", "driver": m{"name": "qemu", "type": "qcow2", "cache": "none"},
				"source": m{"pool": "vms", "volume": fmt.Sprintf("vm%d.qcow2", i)}, "target": m{"dev": "vda", "bus": "virtio"}},
			"interface": m{"type": "network", "source": m{"network": "default"}, "model": m{"type": "virtio"}},
			"channel":   m{"type": "unix", "target": m{"type": "virtio", "name": "org.qemu.guest_agent.0"}},
			"rng":       m{"model": "virtio", "backend": m{"model": "random", "source": "/dev/urandom"}},
		},
	}
}

// DomainsJSON is the configuration of Domains as JSON, in NixVirt's
// settings shape (a list of entries, each with its definition): what
// the Nix modules hand to nixvirt.
func DomainsJSON(n int) []byte {
	entries := make([]any, n)
	for i := range entries {
		entries[i] = map[string]any{"definition": Domain(i)}
	}
	return mustJSON(map[string]any{"connections": map[string]any{"qemu:///system": map[string]any{"domains": entries}}})
}

// DefinitionsJSON is the n domains' definitions as one JSON list: the
// input of NixVirt's generator in the benchmark script.
func DefinitionsJSON(n int) []byte {
	defs := make([]any, n)
	for i := range defs {
		defs[i] = Domain(i)
	}
	return mustJSON(defs)
}

func mustJSON(v any) []byte {
	out, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		panic(err)
	}
	return append(out, '\n')
}
