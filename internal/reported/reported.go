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
// Import and comparison (apply) both read this one list, and so does the
// compiler for an XML definition file (RemoveStorageReport): the package
// knows documents by their root element, so that the compiler can use it.
package reported

import (
	"fmt"
	"strings"

	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// generatedInterfacePrefixes are the prefixes of the host-side interface
// names libvirt makes up when a definition gives none (vnet0, macvtap0,
// and testnet0 on the test driver); libvirt makes up a new one on every
// start, whatever was written. A name a user chose is theirs and stays.
var generatedInterfacePrefixes = []string{"vnet", "macvtap", "macvlan", "testnet"}

// RemoveRuntime removes from a definition (a domain, network, pool or
// volume document) what libvirt reports about the object as it runs or
// about its storage, and nobody writes.
func RemoveRuntime(root *xmldoc.Element) {
	if root.Name != "domain" {
		RemoveStorageReport(root)
		return
	}
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
}

// RemoveStorageReport removes from a pool or volume document what libvirt
// measures of its storage (sizes, a volume's and its backing store's file
// times), which `virsh vol-dumpxml` and `pool-dumpxml` write and libvirt
// ignores in a definition; it returns the elements it removed, as paths
// with their line ("target/timestamps (line 15)"), for a note.
func RemoveStorageReport(root *xmldoc.Element) []string {
	var removed []string
	remove := func(e *xmldoc.Element, prefix string, names ...string) {
		for _, c := range e.Children {
			for _, n := range names {
				if c.Name == n {
					removed = append(removed, fmt.Sprintf("%s%s (line %d)", prefix, n, c.Line))
				}
			}
		}
		e.RemoveChildren(names...)
	}
	switch root.Name {
	case "pool":
		// Sizes of the storage a pool is on, as libvirt last measured them.
		remove(root, "", "capacity", "allocation", "available")
	case "volume":
		// What a volume uses on disk, and when its file (or its backing
		// file) was last touched. Its capacity is what a user writes, and
		// stays.
		remove(root, "", "allocation", "physical")
		for _, name := range []string{"target", "backingStore"} {
			if t := root.Child(name); t != nil {
				remove(t, name+"/", "timestamps")
			}
		}
	}
	return removed
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
func RemoveAssigned(root *xmldoc.Element) {
	if root.Name != "domain" {
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
