package apply

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/compiler"
)

// A network that restarts loses the host side of the running domains'
// interfaces on it: libvirt does not put their tap devices back on the
// new bridge. Rather than stopping those domains before the network stops
// and starting them after, apply re-attaches their interfaces to the
// running guests once the network runs again (the same device detached
// and attached, on the running guest only), and only a domain whose guest
// does not release the old interface is stopped and started.

const (
	// ReasonReattachDomain: a running domain (Name) attached to a network
	// that restarts keeps running; its interfaces are re-attached after.
	ReasonReattachDomain ReasonCode = "reattach-domain"
	// ReasonReattachFailed: (apply) the interfaces of a running domain
	// (Name) could not be re-attached (Detail says why), so it was stopped
	// and started.
	ReasonReattachFailed ReasonCode = "reattach-failed"
)

// reattacher is a Host that can re-attach a running domain's interfaces.
type reattacher interface {
	// Reattach detaches the running domain's interfaces on the network
	// (or its bridge) and attaches them again, on the running guest
	// only; an error says why it could not.
	Reattach(domainUUID, network, bridge string) error
}

// planReattach makes the running domains attached to a network that
// restarts keep running, their interfaces re-attached, where the host
// can and the network's entry allows live changes.
func planReattach(h Host, changes []*planned) {
	if _, ok := h.(reattacher); !ok {
		return
	}
	for _, c := range changes {
		if len(c.dependents) == 0 || c.wanted == nil || !c.wanted.Live {
			continue
		}
		c.reattach = true
		for i := range c.Actions {
			for j, r := range c.Actions[i].Reasons {
				if r.Code == ReasonAttachedDomain {
					c.Actions[i].Reasons[j].Code = ReasonReattachDomain
				}
			}
		}
	}
}

// reattachDependents re-attaches the interfaces of a restarted network's
// running domains, and stops and starts each domain for which that does
// not work.
func (ex *executor) reattachDependents(c *planned) {
	bridge := ""
	var n libvirtxml.Network
	if n.Unmarshal(c.wanted.XML) == nil && n.Bridge != nil {
		bridge = n.Bridge.Name
	}
	r := ex.h.(reattacher)
	for _, dep := range c.dependents {
		err := r.Reattach(dep.UUID, c.wanted.Name, bridge)
		if err == nil {
			ex.note(c, Step{Action: Restart, Reasons: []Reason{{Code: ReasonReattachDomain, Name: dep.Name}}})
			continue
		}
		ex.note(c, Step{Action: Restart, Reasons: []Reason{{Code: ReasonReattachFailed, Name: dep.Name, Detail: err.Error()}}})
		// Journaled first, so that a killed apply starts it again.
		if err := ex.st.beginStops(ex.h.URI(), dep); err != nil {
			ex.fail(c, "record what it stops in the journal", err)
			continue
		}
		if err := ex.h.Stop(ex.abandon, compiler.KindDomain, dep.UUID, time.Duration(c.timeout)*time.Second); err != nil {
			ex.fail(c, "stopping an attached domain whose interfaces could not be re-attached", err)
			continue
		}
		ex.stoppedDeps[c] = append(ex.stoppedDeps[c], dep)
	}
}

// Reattach re-attaches a running domain's interfaces on a network.
func (h *libvirtHost) Reattach(domainUUID, network, bridge string) error {
	h.writes.Add(1)
	d, err := h.conn.LookupDomainByUUIDString(domainUUID)
	if err != nil {
		return err
	}
	defer d.Free()
	doc, err := d.GetXMLDesc(0)
	if err != nil {
		return err
	}
	var running libvirtxml.Domain
	if err := running.Unmarshal(doc); err != nil || running.Devices == nil {
		return fmt.Errorf("cannot read the running definition: %v", err)
	}
	for _, iface := range running.Devices.Interfaces {
		if !onNetwork(iface, network, bridge) || iface.MAC == nil {
			continue
		}
		// The device as given: without what libvirt reports about it as
		// it runs, in the same PCI slot.
		iface.Alias = nil
		if iface.Target != nil && strings.HasPrefix(iface.Target.Dev, "vnet") {
			iface.Target = nil
		}
		if s := iface.Source; s != nil && s.Network != nil {
			n := *s.Network
			n.Bridge, n.PortID = "", ""
			src := *s
			src.Network = &n
			iface.Source = &src
		}
		x := marshalDevice("interface", &iface)
		if err := d.DetachDeviceFlags(x, libvirt.DOMAIN_DEVICE_MODIFY_LIVE); err != nil {
			return fmt.Errorf("detaching interface %s: %s", iface.MAC.Address, libvirtMessage(err))
		}
		if !released(d, iface.MAC.Address, 10*time.Second) {
			return fmt.Errorf("the guest did not release interface %s", iface.MAC.Address)
		}
		if err := d.AttachDeviceFlags(x, libvirt.DOMAIN_DEVICE_MODIFY_LIVE); err != nil {
			return fmt.Errorf("attaching interface %s again: %s", iface.MAC.Address, libvirtMessage(err))
		}
	}
	return nil
}

func onNetwork(i libvirtxml.DomainInterface, network, bridge string) bool {
	if i.Source == nil {
		return false
	}
	return (i.Source.Network != nil && i.Source.Network.Network == network) ||
		(i.Source.Bridge != nil && bridge != "" && i.Source.Bridge.Bridge == bridge)
}

// released waits until the running guest no longer has the interface.
func released(d *libvirt.Domain, mac string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		doc, err := d.GetXMLDesc(0)
		if err == nil && !strings.Contains(strings.ToLower(doc), "<mac address='"+strings.ToLower(mac)+"'") {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// marshalDevice writes a libvirtxml device as the element name.
func marshalDevice(name string, v any) string {
	var b strings.Builder
	e := xml.NewEncoder(&b)
	if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: name}}); err != nil {
		return ""
	}
	if err := e.Flush(); err != nil {
		return ""
	}
	return b.String()
}
