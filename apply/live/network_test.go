package live

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"
)

func networkXML(forward, dns, ip, rest string) string {
	return fmt.Sprintf("<network><name>n</name>%s<bridge name='nvx0'/>%s<ip address='10.251.0.1' prefix='24'>%s</ip>%s</network>",
		forward, dns, ip, rest)
}

const (
	dhcp1  = "<range start='10.251.0.100' end='10.251.0.200'/><host mac='52:54:00:00:00:01' name='a' ip='10.251.0.10'/>"
	dnsOne = "<dns><host ip='10.251.0.10'><hostname>a</hostname></host></dns>"
)

type networkCase struct {
	name string
	old  [4]string // forward, dns, ip children, rest
	new  [4]string
	want []string // "class path (command section parentIndex)"
}

var networkCases = []networkCase{
	{name: "unchanged", old: [4]string{"", dnsOne, "<dhcp>" + dhcp1 + "</dhcp>", ""}, new: [4]string{"", dnsOne, "<dhcp>" + dhcp1 + "</dhcp>", ""}},
	{name: "DHCP host added",
		old:  [4]string{"", "", "<dhcp>" + dhcp1 + "</dhcp>", ""},
		new:  [4]string{"", "", "<dhcp>" + dhcp1 + "<host mac='52:54:00:00:00:02' ip='10.251.0.11'/></dhcp>", ""},
		want: []string{"live ip[0].dhcp.host[52:54:00:00:00:02] (add-last ip-dhcp-host 0)"}},
	{name: "DHCP host moved to another address",
		old:  [4]string{"", "", "<dhcp>" + dhcp1 + "</dhcp>", ""},
		new:  [4]string{"", "", "<dhcp>" + strings.Replace(dhcp1, "0.10'", "0.12'", 1) + "</dhcp>", ""},
		want: []string{"live ip[0].dhcp.host[52:54:00:00:00:01] (modify ip-dhcp-host 0)"}},
	{name: "DHCP range changed",
		old: [4]string{"", "", "<dhcp>" + dhcp1 + "</dhcp>", ""},
		new: [4]string{"", "", "<dhcp>" + strings.Replace(dhcp1, "200", "150", 1) + "</dhcp>", ""},
		want: []string{"live ip[0].dhcp.range[10.251.0.100-10.251.0.200] (delete ip-dhcp-range 0)",
			"live ip[0].dhcp.range[10.251.0.100-10.251.0.150] (add-last ip-dhcp-range 0)"}},
	{name: "DHCP turned on", old: [4]string{}, new: [4]string{"", "", "<dhcp>" + dhcp1 + "</dhcp>", ""},
		want: []string{"restart ip"}},
	{name: "first DNS host", old: [4]string{}, new: [4]string{"", dnsOne, "", ""},
		want: []string{"live dns.host[10.251.0.10] (add-last dns-host -1)"}},
	{name: "DNS host renamed", old: [4]string{"", dnsOne, "", ""}, new: [4]string{"", strings.Replace(dnsOne, ">a<", ">b<", 1), "", ""},
		want: []string{"live dns.host[10.251.0.10] (delete dns-host -1)", "live dns.host[10.251.0.10] (add-last dns-host -1)"}},
	{name: "DNS TXT and SRV",
		old:  [4]string{"", "<dns><txt name='x' value='1'/></dns>", "", ""},
		new:  [4]string{"", "<dns><srv service='ldap' protocol='tcp' target='a' port='389'/></dns>", "", ""},
		want: []string{"live dns.txt[x] (delete dns-txt -1)", "live dns.srv[ldap/tcp//a/389] (add-last dns-srv -1)"}},
	{name: "DNS forwarder", old: [4]string{}, new: [4]string{"", "<dns><forwarder addr='10.251.0.53'/></dns>", "", ""},
		want: []string{"restart dns"}},
	{name: "port group changed",
		old:  [4]string{"", "", "", "<portgroup name='pg'><vlan><tag id='10'/></vlan></portgroup>"},
		new:  [4]string{"", "", "", "<portgroup name='pg'><vlan><tag id='20'/></vlan></portgroup>"},
		want: []string{"live portgroup[pg] (modify portgroup -1)"}},
	{name: "forward interface added",
		old:  [4]string{"<forward mode='passthrough'><interface dev='eth1'/></forward>", "", "", ""},
		new:  [4]string{"<forward mode='passthrough'><interface dev='eth1'/><interface dev='eth2'/></forward>", "", "", ""},
		want: []string{"live forward.interface[eth2] (add-last forward-interface -1)"}},
	{name: "forward mode", old: [4]string{}, new: [4]string{"<forward mode='nat'/>", "", "", ""}, want: []string{"restart forward"}},
	{name: "address changed, DHCP with it",
		old:  [4]string{"", "", "<dhcp>" + dhcp1 + "</dhcp>", ""},
		new:  [4]string{"", "", "<dhcp>" + dhcp1 + "<host mac='52:54:00:00:00:02' ip='10.251.0.11'/></dhcp>", "<ip family='ipv6' address='fd00::1' prefix='64'/>"},
		want: []string{"restart ip"}},
	{name: "metadata", old: [4]string{}, new: [4]string{"", "", "", "<metadata><x:y xmlns:x='urn:x'/></metadata>"},
		want: []string{"next-boot metadata"}},
}

func TestNetwork(t *testing.T) {
	parse := func(p [4]string) *libvirtxml.Network {
		var n libvirtxml.Network
		if err := n.Unmarshal(networkXML(p[0], p[1], p[2], p[3])); err != nil {
			t.Fatal(err)
		}
		return &n
	}
	for _, c := range networkCases {
		t.Run(c.name, func(t *testing.T) {
			got := Network(parse(c.old), parse(c.new))
			var s []string
			for _, ch := range got {
				x := ch.Class.String() + " " + ch.Path
				if ch.Op != nil {
					x += fmt.Sprintf(" (%s %s %d)", ch.Op.Network.Command, ch.Op.Network.Section, ch.Op.Network.ParentIndex)
					if !strings.HasPrefix(ch.Op.XML, "<") {
						t.Errorf("%s: no XML", ch.Path)
					}
				}
				s = append(s, x)
			}
			if !slices.Equal(s, c.want) {
				t.Errorf("got %q\nwant %q", s, c.want)
			}
		})
	}
}

func TestNetworkUpdateXML(t *testing.T) {
	var o, n libvirtxml.Network
	o.Unmarshal(networkXML("", "", "<dhcp>"+dhcp1+"</dhcp>", ""))
	n.Unmarshal(networkXML("", "", "<dhcp>"+dhcp1+"<host mac='52:54:00:00:00:02' name='b' ip='10.251.0.11'/></dhcp>", ""))
	cs := Network(&o, &n)
	if len(cs) != 1 || cs[0].Op.XML != `<host mac="52:54:00:00:00:02" name="b" ip="10.251.0.11"></host>` {
		t.Errorf("got %+v", cs)
	}
}
