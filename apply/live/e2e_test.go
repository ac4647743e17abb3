package live

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"
)

// The end-to-end test runs QEMU guests with no operating system on a real
// libvirtd (NIXVIRT_E2E_URI=qemu:///system): software emulation (domain
// type qemu, CPU mode maximum), an isolated network on bridge nvxlive0 in
// 10.251.0.0/24 with no forward, and file-backed disks in a temporary
// directory. Everything it makes is named nvxlive… and removed at the end.

func e2eConnect(t *testing.T) *libvirt.Connect {
	uri := os.Getenv("NIXVIRT_E2E_URI")
	if uri == "" {
		t.Skip("NIXVIRT_E2E_URI is not set (.ci/run sets it to qemu:///system after starting libvirtd)")
	}
	conn, err := libvirt.NewConnect(uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func clone(t *testing.T, d *libvirtxml.Domain) *libvirtxml.Domain {
	t.Helper()
	doc, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var c libvirtxml.Domain
	if err := c.Unmarshal(doc); err != nil {
		t.Fatal(err)
	}
	return &c
}

// liveAndPersistent are the running and the persistent definition of a
// domain.
func liveAndPersistent(t *testing.T, dom *libvirt.Domain) (running, persistent string) {
	t.Helper()
	running, err := dom.GetXMLDesc(0)
	if err != nil {
		t.Fatal(err)
	}
	persistent, err = dom.GetXMLDesc(libvirt.DOMAIN_XML_INACTIVE)
	if err != nil {
		t.Fatal(err)
	}
	return running, persistent
}

// removeLeftovers removes this test's objects left by a run that was
// killed before its cleanup (they hold the bridge name): only names with
// the nvxlive- prefix, which this test alone uses.
func removeLeftovers(t *testing.T, conn *libvirt.Connect) {
	doms, err := conn.ListAllDomains(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range doms {
		if name, _ := d.GetName(); strings.HasPrefix(name, "nvxlive-") {
			d.Destroy()
			if err := d.Undefine(); err != nil {
				t.Logf("leftover domain %s: %v", name, err)
			}
		}
		d.Free()
	}
	nets, err := conn.ListAllNetworks(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nets {
		if name, _ := n.GetName(); strings.HasPrefix(name, "nvxlive-") {
			n.Destroy()
			if err := n.Undefine(); err != nil {
				t.Logf("leftover network %s: %v", name, err)
			}
		}
		n.Free()
	}
}

func TestE2ELive(t *testing.T) {
	conn := e2eConnect(t)
	removeLeftovers(t, conn)
	tag := fmt.Sprintf("nvxlive-%d", os.Getpid()%100000)
	dir, err := os.MkdirTemp("", tag+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// QEMU runs as its own user and must reach the images.
	os.Chmod(dir, 0o755)
	image := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, 1<<20), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	netXML := fmt.Sprintf(`<network><name>%s</name><bridge name='nvxlive0'/>
  <ip address='10.251.0.1' prefix='24'><dhcp><range start='10.251.0.100' end='10.251.0.200'/></dhcp></ip>
</network>`, tag)
	net, err := conn.NetworkDefineXML(netXML)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if active, _ := net.IsActive(); active {
			net.Destroy()
		}
		if err := net.Undefine(); err != nil {
			t.Errorf("removing network %s: %v", tag, err)
		}
		net.Free()
	})
	if err := net.Create(); err != nil {
		t.Fatal(err)
	}

	// A second network with no address at all, to move an interface to.
	other, err := conn.NetworkCreateXML(fmt.Sprintf("<network><name>%s-b</name><bridge name='nvxlive1'/></network>", tag))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := other.Destroy(); err != nil {
			t.Errorf("removing network %s-b: %v", tag, err)
		}
		other.Free()
	})

	domXML := fmt.Sprintf(`<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>256</memory>
  <currentMemory unit='MiB'>256</currentMemory>
  <vcpu placement='static' current='1'>2</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <features><acpi/><apic/></features>
  <cpu mode='maximum'/>
  <devices>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='%s'/><target dev='hdc' bus='ide'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:25:10:01'/><source network='%s'/><model type='virtio'/></interface>
    <memballoon model='virtio'/>
  </devices>
</domain>`, tag, image("one.iso"), tag)
	var def libvirtxml.Domain
	if err := def.Unmarshal(domXML); err != nil {
		t.Fatal(err)
	}
	dom, err := conn.DomainDefineXML(domXML)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if active, _ := dom.IsActive(); active {
			dom.Destroy()
		}
		if err := dom.Undefine(); err != nil {
			t.Errorf("removing domain %s: %v", tag, err)
		}
		dom.Free()
	})
	if err := dom.Create(); err != nil {
		t.Fatal(err)
	}
	id, err := dom.GetID()
	if err != nil {
		t.Fatal(err)
	}

	// apply classifies old → new, wants only live changes, applies them,
	// and checks that the guest kept running as the same process.
	cur := &def
	apply := func(t *testing.T, new *libvirtxml.Domain) {
		t.Helper()
		cs := Domain(cur, new)
		if len(cs) == 0 {
			t.Fatal("no change found")
		}
		for _, c := range cs {
			if c.Class != Live {
				t.Fatalf("%v is not live", c)
			}
			if err := ApplyDomain(dom, c); err != nil {
				t.Fatal(err)
			}
		}
		if now, err := dom.GetID(); err != nil || now != id {
			t.Fatalf("domain id %d (%v), want %d: it restarted", now, err, id)
		}
		cur = new
	}
	both := func(t *testing.T, has bool, texts ...string) {
		t.Helper()
		running, persistent := liveAndPersistent(t, dom)
		for _, s := range texts {
			if strings.Contains(running, s) != has {
				t.Errorf("running definition has %q: %v, want %v\n%s", s, !has, has, running)
			}
			if strings.Contains(persistent, s) != has {
				t.Errorf("persistent definition has %q: %v, want %v\n%s", s, !has, has, persistent)
			}
		}
	}

	t.Run("disk added and removed on SCSI", func(t *testing.T) {
		new := clone(t, cur)
		new.Devices.Disks = append(new.Devices.Disks, libvirtxml.DomainDisk{
			Device: "disk",
			Driver: &libvirtxml.DomainDiskDriver{Name: "qemu", Type: "raw"},
			Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: image("b.img")}},
			Target: &libvirtxml.DomainDiskTarget{Dev: "sdb", Bus: "scsi"},
		})
		apply(t, new)
		both(t, true, "b.img", "dev='sdb'")
		throttled := clone(t, new)
		throttled.Devices.Disks[1].IOTune = &libvirtxml.DomainDiskIOTune{TotalIopsSec: 100}
		apply(t, throttled)
		both(t, true, "<total_iops_sec>100</total_iops_sec>")
		apply(t, &def)
		both(t, false, "b.img", "dev='sdb'")
	})
	t.Run("CD-ROM media changed", func(t *testing.T) {
		new := clone(t, cur)
		new.Devices.Disks[0].Source.File.File = image("two.iso")
		apply(t, new)
		both(t, true, "two.iso")
		both(t, false, "one.iso")
	})
	t.Run("interface added", func(t *testing.T) {
		new := clone(t, cur)
		nic := new.Devices.Interfaces[0]
		nic.MAC = &libvirtxml.DomainInterfaceMAC{Address: "52:54:00:25:10:02"}
		new.Devices.Interfaces = append(new.Devices.Interfaces, nic)
		apply(t, new)
		both(t, true, "52:54:00:25:10:02")
	})
	t.Run("interface link down", func(t *testing.T) {
		new := clone(t, cur)
		new.Devices.Interfaces[0].Link = &libvirtxml.DomainInterfaceLink{State: "down"}
		apply(t, new)
		both(t, true, "<link state='down'/>")
	})
	t.Run("interface moved to another network", func(t *testing.T) {
		new := clone(t, cur)
		new.Devices.Interfaces[0].Source.Network.Network = tag + "-b"
		apply(t, new)
		both(t, true, "<source network='"+tag+"-b'")
	})
	t.Run("interface removal waits for the guest", func(t *testing.T) {
		// PCI hot-unplug asks the guest, and a guest with no operating
		// system never answers: the definition loses the interface, the
		// running guest keeps it, and the change says so.
		new := clone(t, cur)
		new.Devices.Interfaces = new.Devices.Interfaces[:1]
		cs := Domain(cur, new)
		if len(cs) != 1 || cs[0].Op == nil || cs[0].Op.Kind != DetachDevice {
			t.Fatalf("got %v, want one detach", cs)
		}
		var pending *PendingError
		if err := ApplyDomain(dom, cs[0]); !errors.As(err, &pending) {
			t.Fatalf("got %v, want the detach pending", err)
		}
		running, persistent := liveAndPersistent(t, dom)
		if !strings.Contains(running, "52:54:00:25:10:02") || strings.Contains(persistent, "52:54:00:25:10:02") {
			t.Errorf("want the interface in the running definition only")
		}
		if now, err := dom.GetID(); err != nil || now != id {
			t.Errorf("domain id %d (%v), want %d", now, err, id)
		}
		cur = new
	})
	t.Run("currentMemory lowered", func(t *testing.T) {
		new := clone(t, cur)
		new.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: 192, Unit: "MiB"}
		apply(t, new)
		// The running definition shows the balloon's actual size, which
		// only a balloon driver in the guest changes; QEMU took the new
		// target, and the persistent definition has it.
		_, persistent := liveAndPersistent(t, dom)
		if !strings.Contains(persistent, "<currentMemory unit='KiB'>196608</currentMemory>") {
			t.Errorf("persistent currentMemory not 192 MiB:\n%s", persistent)
		}
	})
	t.Run("vCPUs added", func(t *testing.T) {
		new := clone(t, cur)
		new.VCPU.Current = 2
		apply(t, new)
		for _, flags := range []libvirt.DomainVcpuFlags{libvirt.DOMAIN_VCPU_LIVE, libvirt.DOMAIN_VCPU_CONFIG} {
			if n, err := dom.GetVcpusFlags(flags); err != nil || n != 2 {
				t.Errorf("vCPUs (flags %d): %d %v, want 2", flags, n, err)
			}
		}
		both(t, true, "<vcpu placement='static'>2</vcpu>")
	})
	t.Run("lifecycle action and tunables", func(t *testing.T) {
		new := clone(t, cur)
		new.OnCrash = "preserve"
		new.MemoryTune = &libvirtxml.DomainMemoryTune{HardLimit: &libvirtxml.DomainMemoryTuneLimit{Value: 1, Unit: "GiB"}}
		new.CPUTune = &libvirtxml.DomainCPUTune{Shares: &libvirtxml.DomainCPUTuneShares{Value: 512}}
		apply(t, new)
		both(t, true, "<on_crash>preserve</on_crash>", "<hard_limit unit='KiB'>1048576</hard_limit>", "<shares>512</shares>")
	})
	t.Run("DHCP host and DNS host on the running network", func(t *testing.T) {
		var old, new libvirtxml.Network
		if err := old.Unmarshal(netXML); err != nil {
			t.Fatal(err)
		}
		new.Unmarshal(netXML)
		new.IPs[0].DHCP.Hosts = []libvirtxml.NetworkDHCPHost{{MAC: "52:54:00:25:10:02", Name: "second", IP: "10.251.0.12"}}
		new.DNS = &libvirtxml.NetworkDNS{Host: []libvirtxml.NetworkDNSHost{{IP: "10.251.0.12", Hostnames: []libvirtxml.NetworkDNSHostHostname{{Hostname: "second.nvxlive"}}}}}
		cs := Network(&old, &new)
		if len(cs) != 2 {
			t.Fatalf("want a DHCP host and a DNS host, got %v", cs)
		}
		for _, c := range cs {
			if c.Class != Live {
				t.Fatalf("%v is not live", c)
			}
			if err := ApplyNetwork(net, c); err != nil {
				t.Fatal(err)
			}
		}
		for _, flags := range []libvirt.NetworkXMLFlags{0, libvirt.NETWORK_XML_INACTIVE} {
			doc, err := net.GetXMLDesc(flags)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{"<host mac='52:54:00:25:10:02' name='second' ip='10.251.0.12'/>", "<hostname>second.nvxlive</hostname>"} {
				if !strings.Contains(doc, s) {
					t.Errorf("network XML (flags %d) lacks %s:\n%s", flags, s, doc)
				}
			}
		}
		// Then a range that shrinks (deleted and added again) and a TXT
		// record.
		next := new
		next.IPs = append([]libvirtxml.NetworkIP(nil), new.IPs...)
		dhcp := *new.IPs[0].DHCP
		dhcp.Ranges = []libvirtxml.NetworkDHCPRange{{Start: "10.251.0.100", End: "10.251.0.150"}}
		next.IPs[0].DHCP = &dhcp
		dns := *new.DNS
		dns.TXTs = []libvirtxml.NetworkDNSTXT{{Name: "nvxlive", Value: "yes"}}
		next.DNS = &dns
		cs = Network(&new, &next)
		if len(cs) != 3 {
			t.Fatalf("want a range deleted and added and a TXT record, got %v", cs)
		}
		for _, c := range cs {
			if err := ApplyNetwork(net, c); err != nil {
				t.Fatal(err)
			}
		}
		for _, flags := range []libvirt.NetworkXMLFlags{0, libvirt.NETWORK_XML_INACTIVE} {
			doc, _ := net.GetXMLDesc(flags)
			for _, s := range []string{"<range start='10.251.0.100' end='10.251.0.150'/>", "<txt name='nvxlive' value='yes'/>"} {
				if !strings.Contains(doc, s) {
					t.Errorf("network XML (flags %d) lacks %s:\n%s", flags, s, doc)
				}
			}
		}
		if now, err := dom.GetID(); err != nil || now != id {
			t.Errorf("domain id %d (%v), want %d: the network update restarted it", now, err, id)
		}
	})
	t.Run("machine type is a restart", func(t *testing.T) {
		new := clone(t, cur)
		new.OS.Type.Machine = "q35"
		cs := Domain(cur, new)
		if len(cs) != 1 || cs[0].Class != Restart || cs[0].Path != "os" || cs[0].Op != nil {
			t.Errorf("got %v, want a restart of os", cs)
		}
	})
	t.Run("refused live change", func(t *testing.T) {
		new := clone(t, cur)
		new.Devices.Disks = append(new.Devices.Disks, libvirtxml.DomainDisk{
			Device: "disk",
			Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: filepath.Join(dir, "missing.img")}},
			Target: &libvirtxml.DomainDiskTarget{Dev: "sdc", Bus: "scsi"},
		})
		cs := Domain(cur, new)
		if len(cs) != 1 || cs[0].Class != Live {
			t.Fatalf("got %v, want one live attach", cs)
		}
		err := ApplyDomain(dom, cs[0])
		var refused *RefusedError
		if !errors.As(err, &refused) || refused.Reason == "" || !strings.Contains(err.Error(), "devices.disk[sdc]") {
			t.Fatalf("got %v, want a refusal naming devices.disk[sdc] with libvirt's reason", err)
		}
		t.Logf("refused: %v", err)
		both(t, false, "missing.img")
		if now, err := dom.GetID(); err != nil || now != id {
			t.Errorf("domain id %d (%v), want %d", now, err, id)
		}
	})
}
