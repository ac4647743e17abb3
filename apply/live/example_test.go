package live_test

import (
	"fmt"

	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/apply/live"
)

func ExampleDomain() {
	var old, new libvirtxml.Domain
	old.Unmarshal(`<domain type='kvm'><name>web</name><memory unit='GiB'>4</memory><vcpu current='2'>4</vcpu>
  <os><type machine='pc'>hvm</type></os><devices/></domain>`)
	new.Unmarshal(`<domain type='kvm'><name>web</name><memory unit='GiB'>4</memory><vcpu current='4'>4</vcpu>
  <currentMemory unit='GiB'>2</currentMemory><os><type machine='q35'>hvm</type></os><devices>
  <disk type='file' device='disk'><source file='/vms/data.img'/><target dev='vdb' bus='virtio'/></disk>
  </devices></domain>`)
	for _, c := range live.Domain(&old, &new) {
		fmt.Println(c)
	}
	// Output:
	// live currentMemory (set-memory)
	// live vcpu.current (set-vcpus)
	// restart os: the machine type, firmware and kernel of a guest are fixed when it starts
	// live devices.disk[vdb] (attach-device)
}
