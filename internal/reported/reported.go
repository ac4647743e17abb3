// Package reported knows what libvirt writes into a definition by itself,
// so that nixvirt neither imports it nor sees it as a change:
//
//   - RemoveRuntime: what libvirt reports about an object that runs or
//     about its storage on this host, which nobody writes (a domain's id
//     and security label, device aliases, generated interface names, a
//     pool's and a volume's sizes, a volume's timestamps);
//   - RemoveAssigned: what libvirt assigns when a definition leaves it out
//     (device addresses), which an import keeps so that libvirt does not
//     renumber a guest's devices, but a comparison leaves aside.
//
// Import (cmd/nixvirt) and comparison (apply) both read this one list.
package reported

import (
	"strings"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// generatedInterfacePrefixes are the prefixes of the host-side interface
// names libvirt makes up when a definition gives none (vnet0, macvtap0,
// and testnet0 on the test driver); libvirt makes up a new one on every
// start, whatever was written. A name a user chose is theirs and stays.
var generatedInterfacePrefixes = []string{"vnet", "macvtap", "macvlan", "testnet"}

// RemoveRuntime removes from a definition of kind k what libvirt reports
// about the object as it runs or about its storage, and nobody writes.
func RemoveRuntime(k compiler.Kind, root *xmldoc.Element) {
	switch k {
	case compiler.KindDomain:
		root.RemoveAttrs("id")
		root.RemoveChildren("seclabel")
		devices := root.Child("devices")
		if devices == nil {
			return
		}
		for _, dev := range devices.Children {
			dev.RemoveChildren("alias")
			if dev.Name == "interface" {
				removeGeneratedTarget(dev)
			}
		}
	case compiler.KindPool:
		// Sizes of the storage a pool is on, as libvirt last measured them.
		root.RemoveChildren("capacity", "allocation", "available")
	case compiler.KindVolume:
		// What a volume uses on disk, and when its file was last touched.
		// Its capacity is what a user writes, and stays.
		root.RemoveChildren("allocation", "physical")
		if t := root.Child("target"); t != nil {
			t.RemoveChildren("timestamps")
		}
	}
}

func removeGeneratedTarget(iface *xmldoc.Element) {
	t := iface.Child("target")
	if t == nil {
		return
	}
	dev, _ := t.Attr("dev")
	for _, p := range generatedInterfacePrefixes {
		if strings.HasPrefix(dev, p) {
			iface.RemoveChildren("target")
			return
		}
	}
}

// RemoveAssigned removes from a definition of kind k what libvirt assigns
// when it is left out: the addresses of a domain's devices.
func RemoveAssigned(k compiler.Kind, root *xmldoc.Element) {
	if k != compiler.KindDomain {
		return
	}
	devices := root.Child("devices")
	if devices == nil {
		return
	}
	for _, dev := range devices.Children {
		dev.RemoveChildren("address")
	}
}
