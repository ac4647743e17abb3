package compiler

import (
	"fmt"
	"strings"
	"testing"

	"cuelang.org/go/cue"
)

func mustSchema(t testing.TB) *Schema {
	s, err := LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExportRefusesWhatLibvirtxmlDrops(t *testing.T) {
	s := mustSchema(t)
	// <source dev> does not belong to <disk type='file'>: libvirtxml keeps
	// only file= there, so export must refuse rather than lose it.
	v := s.Context().CompileString(`
type: "kvm", name: "x", os: type: "hvm"
devices: disk: {type: "file", device: "disk", source: dev: "/dev/sda", target: dev: "vda"}`, cue.Filename("x.cue"))
	u, err := s.Check(v, KindDomain)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Export(u, KindDomain)
	if err == nil || !strings.Contains(err.Error(), "no place for") {
		t.Fatalf("want a 'no place for' error, got %v", err)
	}
	if pe, ok := err.(*pathError); !ok || pe.pos.Filename() != "x.cue" || pe.pos.Line() != 3 {
		t.Fatalf("error should point at x.cue:3, got %v", err)
	}
}

func TestObjectsOrderAndNames(t *testing.T) {
	s := mustSchema(t)
	v := s.Context().CompileString(`
connections: "test:///default": {
	domains: b: definition: {type: "test", os: type: "hvm"}
	networks: [{definition: {name: "n"}}]
	pools: p: {definition: {type: "dir", target: path: "/x"}, volumes: "v.img": definition: capacity: count: 1}
}`)
	u, err := s.CheckConfig(v)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := s.Objects(u, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, fmt.Sprintf("%s/%s", o.Kind, o.Name))
	}
	want := "network/n pool/p volume/v.img domain/b"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
}

// domainsConfig is a configuration of n typical domains on one host.
func domainsConfig(n int) string {
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

// BenchmarkVetExport measures what `nixvirt export --out` does for a
// configuration of n domains: compile, unify with #Config, validate, and
// write every domain's XML through libvirtxml.
func BenchmarkVetExport(b *testing.B) {
	s := mustSchema(b)
	for _, n := range []int{1, 100, 1000} {
		src := domainsConfig(n)
		b.Run(fmt.Sprintf("domains=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				v := s.Context().CompileString(src)
				u, err := s.CheckConfig(v)
				if err != nil {
					b.Fatal(err)
				}
				objs, err := s.Objects(u, ".")
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range objs {
					if _, err := s.Compile(o); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
