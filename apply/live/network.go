package live

import (
	"encoding/xml"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// NetworkCommand is what a network update does to its section.
type NetworkCommand string

const (
	NetworkAdd    NetworkCommand = "add-last" // VIR_NETWORK_UPDATE_COMMAND_ADD_LAST
	NetworkDelete NetworkCommand = "delete"   // VIR_NETWORK_UPDATE_COMMAND_DELETE
	NetworkModify NetworkCommand = "modify"   // VIR_NETWORK_UPDATE_COMMAND_MODIFY
)

// NetworkSection is the part of a network definition an update changes.
type NetworkSection string

const (
	SectionDHCPHost         NetworkSection = "ip-dhcp-host"      // VIR_NETWORK_SECTION_IP_DHCP_HOST
	SectionDHCPRange        NetworkSection = "ip-dhcp-range"     // VIR_NETWORK_SECTION_IP_DHCP_RANGE
	SectionDNSHost          NetworkSection = "dns-host"          // VIR_NETWORK_SECTION_DNS_HOST
	SectionDNSTXT           NetworkSection = "dns-txt"           // VIR_NETWORK_SECTION_DNS_TXT
	SectionDNSSRV           NetworkSection = "dns-srv"           // VIR_NETWORK_SECTION_DNS_SRV
	SectionPortGroup        NetworkSection = "portgroup"         // VIR_NETWORK_SECTION_PORTGROUP
	SectionForwardInterface NetworkSection = "forward-interface" // VIR_NETWORK_SECTION_FORWARD_INTERFACE
)

// Network returns the differences between the old and the new definition
// of a running network: what virNetworkUpdate changes live (DHCP hosts
// and ranges, DNS hosts, TXT and SRV records, port groups, forward
// interfaces), one update per element, and everything else as restart.
// Deletions come first, then modifications, then additions.
func Network(old, new *libvirtxml.Network) []Change {
	var cs []Change
	ro, rn := withoutLiveSections(old), withoutLiveSections(new)
	t := reflect.TypeOf(ro).Elem()
	ipsSame := true
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch f.Name {
		case "XMLName", "Name", "UUID":
			continue
		case "Metadata":
			if networkFieldXML(ro, i) != networkFieldXML(rn, i) {
				cs = append(cs, Change{Class: NextBoot, Path: "metadata",
					Reason: "metadata is kept for tools in the definition; the network never reads it"})
			}
			continue
		}
		if networkFieldXML(ro, i) != networkFieldXML(rn, i) {
			path := fieldPath(f)
			if f.Name == "IPs" {
				ipsSame = false
			}
			cs = append(cs, Change{Class: Restart, Path: path,
				Reason: fmt.Sprintf("libvirt cannot change %s of a running network", path)})
		}
	}
	// With the <ip> elements themselves unchanged, an index names the
	// same one in both definitions; otherwise the restart covers DHCP.
	if ipsSame {
		for i := range new.IPs {
			var o, n libvirtxml.NetworkDHCP
			if old.IPs[i].DHCP != nil {
				o = *old.IPs[i].DHCP
			}
			if new.IPs[i].DHCP != nil {
				n = *new.IPs[i].DHCP
			}
			prefix := fmt.Sprintf("ip[%d].dhcp.", i)
			cs = append(cs, items(SectionDHCPHost, prefix+"host", "host", i, o.Hosts, n.Hosts, dhcpHostKey, true)...)
			cs = append(cs, items(SectionDHCPRange, prefix+"range", "range", i, o.Ranges, n.Ranges,
				func(r *libvirtxml.NetworkDHCPRange) string { return r.Start + "-" + r.End }, false)...)
		}
	}
	var od, nd libvirtxml.NetworkDNS
	if old.DNS != nil {
		od = *old.DNS
	}
	if new.DNS != nil {
		nd = *new.DNS
	}
	cs = append(cs, items(SectionDNSHost, "dns.host", "host", -1, od.Host, nd.Host,
		func(h *libvirtxml.NetworkDNSHost) string { return h.IP }, false)...)
	cs = append(cs, items(SectionDNSTXT, "dns.txt", "txt", -1, od.TXTs, nd.TXTs,
		func(t *libvirtxml.NetworkDNSTXT) string { return t.Name }, false)...)
	cs = append(cs, items(SectionDNSSRV, "dns.srv", "srv", -1, od.SRVs, nd.SRVs,
		func(s *libvirtxml.NetworkDNSSRV) string {
			return strings.Join([]string{s.Service, s.Protocol, s.Domain, s.Target, strconv.FormatUint(uint64(s.Port), 10)}, "/")
		}, false)...)
	cs = append(cs, items(SectionPortGroup, "portgroup", "portgroup", -1, old.PortGroups, new.PortGroups,
		func(p *libvirtxml.NetworkPortGroup) string { return p.Name }, true)...)
	var of, nf libvirtxml.NetworkForward
	if old.Forward != nil {
		of = *old.Forward
	}
	if new.Forward != nil {
		nf = *new.Forward
	}
	cs = append(cs, items(SectionForwardInterface, "forward.interface", "interface", -1, of.Interfaces, nf.Interfaces,
		func(f *libvirtxml.NetworkForwardInterface) string { return f.Dev }, false)...)
	return orderNetwork(cs)
}

// dhcpHostKey is what libvirt matches a DHCP host by.
func dhcpHostKey(h *libvirtxml.NetworkDHCPHost) string {
	switch {
	case h.MAC != "":
		return strings.ToLower(h.MAC)
	case h.ID != "":
		return h.ID
	case h.Name != "":
		return h.Name
	}
	return h.IP
}

// items compares the elements of one section by key: a removed one is
// deleted, an added one added, a changed one modified where libvirt
// modifies that section and otherwise deleted and added again.
func items[T any](section NetworkSection, path, element string, parent int, olds, news []T, key func(*T) string, modify bool) []Change {
	update := func(cmd NetworkCommand, v *T) Op {
		return Op{Kind: UpdateNetwork, XML: marshalAs(element, v),
			Network: &NetworkUpdate{Command: cmd, Section: section, ParentIndex: parent}}
	}
	live := func(k string, op Op) Change {
		return Change{Class: Live, Path: path + "[" + k + "]", Op: &op}
	}
	byKey := map[string]*T{}
	for i := range news {
		byKey[key(&news[i])] = &news[i]
	}
	var cs []Change
	oldKeys := map[string]bool{}
	for i := range olds {
		o := &olds[i]
		k := key(o)
		oldKeys[k] = true
		n, kept := byKey[k]
		switch {
		case !kept:
			cs = append(cs, live(k, update(NetworkDelete, o)))
		case marshalAs(element, o) == marshalAs(element, n):
		case modify:
			cs = append(cs, live(k, update(NetworkModify, n)))
		default:
			cs = append(cs, live(k, update(NetworkDelete, o)), live(k, update(NetworkAdd, n)))
		}
	}
	for i := range news {
		if k := key(&news[i]); !oldKeys[k] {
			cs = append(cs, live(k, update(NetworkAdd, &news[i])))
		}
	}
	return cs
}

func orderNetwork(cs []Change) []Change {
	rank := func(c Change) int {
		switch {
		case c.Op == nil || c.Op.Network == nil:
			return 0
		case c.Op.Network.Command == NetworkDelete:
			return 1
		case c.Op.Network.Command == NetworkModify:
			return 2
		}
		return 3
	}
	var out []Change
	for r := 0; r <= 3; r++ {
		for _, c := range cs {
			if rank(c) == r {
				out = append(out, c)
			}
		}
	}
	return out
}

// withoutLiveSections is a copy of a network without what
// virNetworkUpdate changes, for finding what only a restart changes. A
// <dns> element left with nothing in it is as good as none: libvirt adds
// DNS records to a network that has none.
func withoutLiveSections(n *libvirtxml.Network) *libvirtxml.Network {
	c := *n
	c.IPs = nil
	for _, ip := range n.IPs {
		if ip.DHCP != nil {
			d := *ip.DHCP
			d.Hosts, d.Ranges = nil, nil
			ip.DHCP = &d
		}
		c.IPs = append(c.IPs, ip)
	}
	if n.DNS != nil {
		d := *n.DNS
		d.Host, d.TXTs, d.SRVs = nil, nil, nil
		c.DNS = &d
		if marshalAs("dns", &d) == marshalAs("dns", &libvirtxml.NetworkDNS{}) {
			c.DNS = nil
		}
	}
	c.PortGroups = nil
	if n.Forward != nil {
		f := *n.Forward
		f.Interfaces = nil
		c.Forward = &f
	}
	return &c
}

func networkFieldXML(n *libvirtxml.Network, i int) string {
	var one libvirtxml.Network
	reflect.ValueOf(&one).Elem().Field(i).Set(reflect.ValueOf(n).Elem().Field(i))
	b, err := xml.Marshal(&one)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b)
}
