// Package testconfig writes the configurations the benchmarks measure, so
// that the compiler's and the command's figures are of the same input.
package testconfig

import (
	"fmt"
	"strings"
)

// Domains is a whole-host configuration of n typical domains on
// qemu:///system: a virtio disk on a pool volume, a network card, the
// guest agent channel and a virtio RNG.
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
