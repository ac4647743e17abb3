package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkExportOut runs `nixvirt export --out` in-process on a
// configuration of n typical domains, from loading the file to writing
// the XML files.
func BenchmarkExportOut(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		dir := b.TempDir()
		var src strings.Builder
		src.WriteString("connections: \"qemu:///system\": domains: {\n")
		for i := 0; i < n; i++ {
			fmt.Fprintf(&src, `"vm%d": definition: {
	type: "kvm", uuid: "c7a5fdbd-cdaf-9455-926a-%012d"
	memory: {count: 4, unit: "GiB"}, vcpu: {placement: "static", count: 2}
	os: {type: "hvm", arch: "x86_64", machine: "q35", boot: dev: "hd"}
	features: {acpi: {}, apic: {}}, cpu: mode: "host-passthrough"
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
		src.WriteString("}\n")
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(src.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("domains=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c := newRootCmd(io.Discard, io.Discard, dir)
				c.root.SetArgs([]string{"export", "--out", filepath.Join(dir, "out"), "host.cue"})
				if err := c.root.Execute(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
