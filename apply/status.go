package apply

import (
	"fmt"

	"nixvirt.dev/nixvirt/compiler"
)

// ObjectStatus is what `nixvirt status` shows of one object: whether it
// runs and, for a running domain, the addresses of its interfaces.
type ObjectStatus struct {
	Connection string
	Kind       compiler.Kind
	Name       string
	// Defined: libvirt has the object; Active: it runs.
	Defined, Active bool
	Interfaces      []InterfaceAddresses
}

// ObjectKey names an object; a Kind "" matches every kind.
type ObjectKey struct {
	Kind compiler.Kind
	Name string
}

// Status reads objects of one connection: those named, and with ours
// every object nixvirt owns there for owner ("": for any owner). It
// changes nothing.
func Status(h Host, st *State, names []ObjectKey, ours bool, owner string) ([]ObjectStatus, error) {
	uri := h.URI()
	var out []ObjectStatus
	found := map[ObjectKey]bool{}
	for _, k := range compiler.TopLevelKinds {
		live, err := h.List(k)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot list %s: %s", uri, k.Plural(), libvirtMessage(err))
		}
		if k == compiler.KindSecret {
			nameSecrets(st, uri, live)
		}
		for i := range live {
			l := &live[i]
			key := ObjectKey{Kind: k, Name: l.Name}
			if !namesKey(names, key) && !(ours && ownedBy(k, l, st, uri, owner)) {
				continue
			}
			found[key] = true
			s := ObjectStatus{Connection: uri, Kind: k, Name: l.Name, Defined: true, Active: l.Active}
			if k == compiler.KindDomain && l.Active {
				if r := readerOf(h); r != nil {
					got, _ := r.Addresses(l.UUID)
					for _, mac := range interfaceMACs(l.XML) {
						s.Interfaces = append(s.Interfaces, InterfaceAddresses{MAC: mac, Addresses: got[mac]})
					}
				}
			}
			out = append(out, s)
		}
	}
	for _, n := range names {
		if !found[n] && (n.Kind != "" || !foundName(found, n.Name)) {
			out = append(out, ObjectStatus{Connection: uri, Kind: n.Kind, Name: n.Name})
		}
	}
	return out, nil
}

func namesKey(keys []ObjectKey, k ObjectKey) bool {
	for _, x := range keys {
		if x == k || x.Kind == "" && x.Name == k.Name {
			return true
		}
	}
	return false
}

// StatusKeys are the objects of a configuration's connection, for
// Status.
func (d *Desired) StatusKeys(uri string) []ObjectKey {
	var out []ObjectKey
	for _, w := range d.Objects[uri] {
		if !w.Absent {
			out = append(out, ObjectKey{Kind: w.Kind, Name: w.Name})
		}
	}
	return out
}

func foundName(found map[ObjectKey]bool, name string) bool {
	for k := range found {
		if k.Name == name {
			return true
		}
	}
	return false
}
