package live

import (
	"encoding/xml"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"
)

// domainXML is a small running guest with extra top-level elements and
// devices.
func domainXML(top, devices string) string {
	if !strings.Contains(top, "<memory") {
		top = "<memory unit='MiB'>256</memory>" + top
	}
	if !strings.Contains(top, "<os>") {
		top += "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
	}
	return fmt.Sprintf("<domain type='qemu'><name>t</name>%s<devices>%s</devices></domain>", top, devices)
}

const (
	vdb     = "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/v/b.img'/><target dev='vdb' bus='virtio'/></disk>"
	sdb     = "<disk type='file' device='disk'><source file='/v/s.img'/><target dev='sdb' bus='scsi'/></disk>"
	nicA    = "<interface type='network'><mac address='52:54:00:00:00:0a'/><source network='a'/><model type='virtio'/></interface>"
	nicB    = "<interface type='network'><mac address='52:54:00:00:00:0b'/><source network='b'/><model type='virtio'/></interface>"
	cdrom   = "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/v/one.iso'/><target dev='sda' bus='sata'/><readonly/></disk>"
	vncPass = "<graphics type='vnc' port='-1' autoport='yes' passwd='one'/>"
)

// domainCase is an old and a new definition (top-level elements and
// devices) and the changes wanted, each as "class path (op)".
type domainCase struct {
	name               string
	oldTop, oldDevices string
	newTop, newDevices string
	want               []string
}

var domainCases = []domainCase{
	{name: "unchanged", oldDevices: vdb + nicA, newDevices: vdb + nicA},
	{name: "libvirt's alias and address are not a change",
		oldDevices: strings.Replace(vdb, "</disk>", "<alias name='virtio-disk1'/><address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></disk>", 1),
		newDevices: vdb},
	{name: "devices are matched by identity, not position", oldDevices: nicA + nicB + vdb + sdb, newDevices: sdb + nicB + vdb + nicA},

	{name: "disk added on virtio", newDevices: vdb, want: []string{"live devices.disk[vdb] (attach-device)"}},
	{name: "disk removed from scsi", oldDevices: sdb, want: []string{"live devices.disk[sdb] (detach-device)"}},
	{name: "disk added on ide",
		newDevices: "<disk type='file' device='disk'><source file='/v/h.img'/><target dev='hdb' bus='ide'/></disk>",
		want:       []string{"restart devices.disk[hdb]"}},
	{name: "disk bus inferred from its target", newDevices: "<disk type='file' device='disk'><source file='/v/x.img'/><target dev='vdc'/></disk>",
		want: []string{"live devices.disk[vdc] (attach-device)"}},
	{name: "CD-ROM media changed", oldDevices: cdrom, newDevices: strings.Replace(cdrom, "one.iso", "two.iso", 1),
		want: []string{"live devices.disk[sda] (update-device)"}},
	{name: "CD-ROM ejected", oldDevices: cdrom, newDevices: strings.Replace(cdrom, "<source file='/v/one.iso'/>", "", 1),
		want: []string{"live devices.disk[sda] (update-device)"}},
	{name: "disk image swapped", oldDevices: vdb, newDevices: strings.Replace(vdb, "b.img", "c.img", 1),
		want: []string{"restart devices.disk[vdb]"}},
	{name: "CD-ROM bus changed", oldDevices: cdrom, newDevices: strings.Replace(cdrom, "sata", "ide", 1),
		want: []string{"restart devices.disk[sda]"}},
	{name: "disk throttled", oldDevices: vdb, newDevices: strings.Replace(vdb, "</disk>", "<iotune><total_iops_sec>100</total_iops_sec></iotune></disk>", 1),
		want: []string{"live devices.disk[vdb].iotune (set-block-io-tune)"}},
	{name: "CD-ROM media and throttling",
		oldDevices: strings.Replace(cdrom, "</disk>", "<iotune><read_bytes_sec>1000</read_bytes_sec><group_name>g</group_name></iotune></disk>", 1),
		newDevices: strings.Replace(cdrom, "one.iso", "two.iso", 1),
		want:       []string{"live devices.disk[sda].iotune (set-block-io-tune)", "live devices.disk[sda] (update-device)"}},
	{name: "disk boot order", oldDevices: vdb, newDevices: strings.Replace(vdb, "</disk>", "<boot order='1'/></disk>", 1),
		want: []string{"next-boot devices.disk[vdb].boot"}},
	{name: "disk target renamed", oldDevices: vdb, newDevices: strings.Replace(vdb, "vdb", "vdc", 1),
		want: []string{"live devices.disk[vdb] (detach-device)", "live devices.disk[vdc] (attach-device)"}},

	{name: "scsi controller added", newDevices: "<controller type='scsi' index='0' model='virtio-scsi'/>",
		want: []string{"live devices.controller[scsi/0] (attach-device)"}},
	{name: "usb controller added", newDevices: "<controller type='usb' index='1' model='qemu-xhci'/>",
		want: []string{"restart devices.controller[usb/1]"}},
	{name: "controller model changed", oldDevices: "<controller type='scsi' index='0' model='lsilogic'/>",
		newDevices: "<controller type='scsi' index='0' model='virtio-scsi'/>", want: []string{"restart devices.controller[scsi/0]"}},

	{name: "lease added", newDevices: "<lease><lockspace>ls</lockspace><key>k</key><target path='/l'/></lease>",
		want: []string{"live devices.lease[ls/k] (attach-device)"}},

	{name: "virtiofs filesystem added",
		newDevices: "<filesystem type='mount'><driver type='virtiofs'/><source dir='/srv'/><target dir='srv'/></filesystem>",
		want:       []string{"live devices.filesystem[srv] (attach-device)"}},
	{name: "9p filesystem added",
		newDevices: "<filesystem type='mount'><driver type='path'/><source dir='/srv'/><target dir='srv'/></filesystem>",
		want:       []string{"restart devices.filesystem[srv]"}},

	{name: "interface added", oldDevices: nicA, newDevices: nicA + nicB,
		want: []string{"live devices.interface[52:54:00:00:00:0b] (attach-device)"}},
	{name: "interface removed", oldDevices: nicA + nicB, newDevices: nicB,
		want: []string{"live devices.interface[52:54:00:00:00:0a] (detach-device)"}},
	{name: "interface link down", oldDevices: nicA, newDevices: strings.Replace(nicA, "</interface>", "<link state='down'/></interface>", 1),
		want: []string{"live devices.interface[52:54:00:00:00:0a] (update-device)"}},
	{name: "interface bandwidth",
		oldDevices: nicA,
		newDevices: strings.Replace(nicA, "</interface>", "<bandwidth><inbound average='1000'/></bandwidth></interface>", 1),
		want:       []string{"live devices.interface[52:54:00:00:00:0a] (update-device)"}},
	{name: "interface moves to a bridge", oldDevices: nicA,
		newDevices: "<interface type='bridge'><mac address='52:54:00:00:00:0a'/><source bridge='br0'/><model type='virtio'/></interface>",
		want:       []string{"live devices.interface[52:54:00:00:00:0a] (update-device)"}},
	{name: "interface model changed", oldDevices: nicA, newDevices: strings.Replace(nicA, "virtio", "e1000", 1),
		want: []string{"restart devices.interface[52:54:00:00:00:0a]"}},

	{name: "smartcard added", newDevices: "<smartcard mode='passthrough' type='spicevmc'/>",
		want: []string{"restart devices.smartcard[0]"}},
	{name: "isa serial added", newDevices: "<serial type='pty'><target type='isa-serial' port='0'/></serial>",
		want: []string{"restart devices.serial[port 0]"}},
	{name: "usb serial added", newDevices: "<serial type='pty'><target type='usb-serial' port='1'/></serial>",
		want: []string{"live devices.serial[port 1] (attach-device)"}},
	{name: "parallel added", newDevices: "<parallel type='pty'><target port='0'/></parallel>",
		want: []string{"restart devices.parallel[port 0]"}},
	{name: "console added", newDevices: "<console type='pty'><target type='serial' port='0'/></console>",
		want: []string{"restart devices.console[serial port 0]"}},
	{name: "virtio channel added", newDevices: "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
		want: []string{"live devices.channel[org.qemu.guest_agent.0] (attach-device)"}},
	{name: "usb tablet added", newDevices: "<input type='tablet' bus='usb'/>",
		want: []string{"live devices.input[tablet/usb] (attach-device)"}},
	{name: "ps2 mouse added", newDevices: "<input type='mouse' bus='ps2'/>",
		want: []string{"restart devices.input[mouse/ps2]"}},
	{name: "TPM added", newDevices: "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>",
		want: []string{"restart devices.tpm[0]"}},
	{name: "VNC password changed", oldDevices: vncPass, newDevices: strings.Replace(vncPass, "one", "two", 1),
		want: []string{"live devices.graphics[vnc] (update-device)"}},
	{name: "VNC keymap changed", oldDevices: vncPass, newDevices: strings.Replace(vncPass, "/>", " keymap='de'/>", 1),
		want: []string{"restart devices.graphics[vnc]"}},
	{name: "VNC port and address libvirt chose at start", oldDevices: "<graphics type='vnc' port='5900' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics>",
		newDevices: "<graphics type='vnc' port='-1' autoport='yes'><listen type='address'/></graphics>"},
	{name: "VNC port libvirt chose, definition without listen", oldDevices: "<graphics type='vnc' port='5901' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics>",
		newDevices: "<graphics type='vnc' autoport='yes'/>"},
	{name: "VNC fixed port changed", oldDevices: "<graphics type='vnc' port='5901' autoport='no' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics>",
		newDevices: "<graphics type='vnc' port='5902' autoport='no' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics>",
		want:       []string{"restart devices.graphics[vnc]"}},
	{name: "VNC listen address given changed", oldDevices: "<graphics type='vnc' port='5900' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics>",
		newDevices: "<graphics type='vnc' autoport='yes' listen='0.0.0.0'><listen type='address' address='0.0.0.0'/></graphics>",
		want:       []string{"restart devices.graphics[vnc]"}},
	{name: "SPICE ports libvirt chose at start", oldDevices: "<graphics type='spice' port='5900' tlsPort='5901' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics>",
		newDevices: "<graphics type='spice' autoport='yes'><listen type='address'/></graphics>"},
	{name: "sound added", newDevices: "<sound model='ich9'/>", want: []string{"restart devices.sound[0]"}},
	{name: "audio added", newDevices: "<audio id='1' type='none'/>", want: []string{"restart devices.audio[0]"}},
	{name: "video model changed", oldDevices: "<video><model type='vga'/></video>", newDevices: "<video><model type='virtio'/></video>",
		want: []string{"restart devices.video[0]", "restart devices.video[0]"}},
	{name: "PCI hostdev added",
		newDevices: "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x06' slot='0x02' function='0x0'/></source></hostdev>",
		want:       []string{"live devices.hostdev[0] (attach-device)"}},
	{name: "USB hostdev removed",
		oldDevices: "<hostdev mode='subsystem' type='usb' managed='yes'><source><vendor id='0x1234'/><product id='0xbeef'/></source></hostdev>",
		want:       []string{"live devices.hostdev[0] (detach-device)"}},
	{name: "capabilities hostdev added",
		newDevices: "<hostdev mode='capabilities' type='misc'><source><char>/dev/input/event3</char></source></hostdev>",
		want:       []string{"restart devices.hostdev[0]"}},
	{name: "USB redirection added", newDevices: "<redirdev bus='usb' type='spicevmc'/>",
		want: []string{"live devices.redirdev[0] (attach-device)"}},
	{name: "USB redirection filter added", newDevices: "<redirfilter><usbdev allow='yes'/></redirfilter>",
		want: []string{"restart devices.redirfilter[0]"}},
	{name: "USB hub added", newDevices: "<hub type='usb'/>", want: []string{"restart devices.hub[0]"}},
	{name: "watchdog added", newDevices: "<watchdog model='i6300esb' action='reset'/>",
		want: []string{"live devices.watchdog[i6300esb] (attach-device)"}},
	{name: "watchdog action changed", oldDevices: "<watchdog model='i6300esb' action='reset'/>",
		newDevices: "<watchdog model='i6300esb' action='poweroff'/>", want: []string{"restart devices.watchdog[i6300esb]"}},
	{name: "memory balloon model changed", oldDevices: "<memballoon model='virtio'/>", newDevices: "<memballoon model='none'/>",
		want: []string{"restart devices.memballoon"}},
	{name: "RNG added", newDevices: "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
		want: []string{"live devices.rng[0] (attach-device)"}},
	{name: "RNG source changed, a different device",
		oldDevices: "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
		newDevices: "<rng model='virtio'><backend model='random'>/dev/random</backend></rng>",
		want:       []string{"live devices.rng[0] (detach-device)", "live devices.rng[0] (attach-device)"}},
	{name: "NVRAM device added", newDevices: "<nvram><address type='spapr-vio' reg='0x3000'/></nvram>",
		want: []string{"restart devices.nvram"}},
	{name: "panic device added", newDevices: "<panic model='isa'/>", want: []string{"restart devices.panic[0]"}},
	{name: "ivshmem added", newDevices: "<shmem name='sh'><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>",
		want: []string{"live devices.shmem[sh] (attach-device)"}},
	{name: "DIMM added", newDevices: "<memory model='dimm'><target><size unit='MiB'>128</size><node>0</node></target></memory>",
		want: []string{"live devices.memory[dimm node 0 131072 KiB] (attach-device)"}},
	{name: "virtio-mem resized",
		oldDevices: "<memory model='virtio-mem'><target><size unit='MiB'>512</size><node>0</node><block unit='MiB'>2</block><requested unit='MiB'>128</requested></target></memory>",
		newDevices: "<memory model='virtio-mem'><target><size unit='MiB'>512</size><node>0</node><block unit='MiB'>2</block><requested unit='MiB'>256</requested></target></memory>",
		want:       []string{"live devices.memory[virtio-mem node 0 524288 KiB] (update-device)"}},
	{name: "IOMMU added", newDevices: "<iommu model='intel'/>", want: []string{"restart devices.iommu[0]"}},
	{name: "vsock added", newDevices: "<vsock model='virtio'><cid auto='yes'/></vsock>",
		want: []string{"live devices.vsock (attach-device)"}},
	{name: "crypto added", newDevices: "<crypto model='virtio' type='qemu'><backend model='builtin' queues='1'/></crypto>",
		want: []string{"restart devices.crypto[0]"}},
	{name: "pstore added", newDevices: "<pstore backend='acpi-erst'><path>/p</path><size unit='KiB'>8</size></pstore>",
		want: []string{"restart devices.pstore"}},
	{name: "emulator changed", oldDevices: "<emulator>/usr/bin/qemu-system-x86_64</emulator>",
		newDevices: "<emulator>/opt/qemu</emulator>", want: []string{"restart devices.emulator"}},

	{name: "currentMemory lowered", newTop: "<currentMemory unit='MiB'>128</currentMemory>",
		want: []string{"live currentMemory (set-memory)"}},
	{name: "currentMemory above memory", newTop: "<currentMemory unit='MiB'>512</currentMemory>",
		want: []string{"restart currentMemory"}},
	{name: "memory raised", oldTop: "<memory unit='MiB'>256</memory><currentMemory unit='MiB'>128</currentMemory>",
		newTop: "<memory unit='MiB'>512</memory>", want: []string{"restart memory", "restart currentMemory"}},
	{name: "memory in other units is the same", oldTop: "<memory unit='MiB'>256</memory>", newTop: "<memory unit='KiB'>262144</memory>"},
	{name: "vCPUs hot-plugged", oldTop: "<vcpu current='1'>2</vcpu>", newTop: "<vcpu current='2'>2</vcpu>",
		want: []string{"live vcpu.current (set-vcpus)"}},
	{name: "vCPU maximum raised", oldTop: "<vcpu>2</vcpu>", newTop: "<vcpu>4</vcpu>", want: []string{"restart vcpu"}},
	{name: "memtune hard limit", newTop: "<memtune><hard_limit unit='GiB'>1</hard_limit></memtune>",
		want: []string{"live memtune (set-memory-parameters)"}},
	{name: "blkiotune weight", newTop: "<blkiotune><weight>500</weight></blkiotune>",
		want: []string{"live blkiotune (set-blkio-parameters)"}},
	{name: "cputune shares and quota", newTop: "<cputune><shares>2048</shares><quota>50000</quota></cputune>",
		want: []string{"live cputune (set-scheduler-parameters)"}},
	{name: "vCPU pinned", newTop: "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune>", want: []string{"live cputune.vcpupin[0] (pin-vcpu)"}},
	{name: "vCPU pins changed, matched by vCPU",
		oldTop: "<cputune><vcpupin vcpu='1' cpuset='2'/><vcpupin vcpu='0' cpuset='1'/></cputune>",
		newTop: "<cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='1' cpuset='0-3,^2'/></cputune>",
		want:   []string{"live cputune.vcpupin[1] (pin-vcpu)"}},
	{name: "emulator and I/O thread pinned", oldTop: "<iothreads>1</iothreads>",
		newTop: "<iothreads>1</iothreads><cputune><emulatorpin cpuset='1'/><iothreadpin iothread='1' cpuset='0'/></cputune>",
		want:   []string{"live cputune.emulatorpin (pin-emulator)", "live cputune.iothreadpin[1] (pin-iothread)"}},
	{name: "pins taken out", oldTop: "<cputune><vcpupin vcpu='0' cpuset='1'/><emulatorpin cpuset='1'/><iothreadpin iothread='1' cpuset='0'/></cputune>",
		want: []string{"live cputune.vcpupin[0] (pin-vcpu)", "live cputune.emulatorpin (pin-emulator)", "live cputune.iothreadpin[1] (pin-iothread)"}},
	{name: "pin and shares together", oldTop: "<cputune><shares>1024</shares></cputune>",
		newTop: "<cputune><shares>2048</shares><vcpupin vcpu='0' cpuset='1'/></cputune>",
		want:   []string{"live cputune (set-scheduler-parameters)", "live cputune.vcpupin[0] (pin-vcpu)"}},
	{name: "vCPU scheduler policy", newTop: "<cputune><vcpusched vcpus='0' scheduler='fifo' priority='1'/></cputune>", want: []string{"restart cputune"}},
	{name: "machine type changed", newTop: "<os><type arch='x86_64' machine='q35'>hvm</type></os>", want: []string{"restart os"}},
	{name: "boot order changed", newTop: "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='cdrom'/></os>",
		want: []string{"next-boot os.boot"}},
	{name: "title", newTop: "<title>web</title>", want: []string{"live title (set-title)"}},
	{name: "description", newTop: "<description>web</description>", want: []string{"live description (set-description)"}},
	{name: "metadata", newTop: "<metadata><x:y xmlns:x='urn:x'/></metadata>", want: []string{"next-boot metadata"}},
	{name: "QEMU command line", newTop: "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-S'/></qemu:commandline>",
		want: []string{"restart commandline"}},
	{name: "features", newTop: "<features><acpi/></features>", want: []string{"restart features"}},
	{name: "lifecycle default written out", newTop: "<on_crash>destroy</on_crash>"},
	{name: "lifecycle", newTop: "<on_reboot>destroy</on_reboot>", want: []string{"live on_reboot (set-lifecycle-action)"}},
	{name: "lifecycle failure action", newTop: "<on_lockfailure>poweroff</on_lockfailure>", want: []string{"restart on_lockfailure"}},
}

func parseDomain(t *testing.T, doc string) *libvirtxml.Domain {
	t.Helper()
	var d libvirtxml.Domain
	if err := d.Unmarshal(doc); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return &d
}

func summary(cs []Change) []string {
	var out []string
	for _, c := range cs {
		s := c.Class.String() + " " + c.Path
		if c.Op != nil {
			s += " (" + string(c.Op.Kind) + ")"
		}
		out = append(out, s)
	}
	return out
}

// isZero reports whether a field holds nothing: libvirtxml writes nothing
// for it.
func isZero(v reflect.Value) bool {
	return !v.IsValid() || v.IsZero() || (v.Kind() == reflect.Slice && v.Len() == 0)
}

func TestDomain(t *testing.T) {
	for _, c := range domainCases {
		t.Run(c.name, func(t *testing.T) {
			old := parseDomain(t, domainXML(c.oldTop, c.oldDevices))
			new := parseDomain(t, domainXML(c.newTop, c.newDevices))
			before, _ := xml.Marshal(old)
			got := Domain(old, new)
			if s := summary(got); !slices.Equal(s, c.want) {
				t.Errorf("got %q\nwant %q", s, c.want)
			}
			for _, ch := range got {
				if ch.Class == Restart && ch.Reason == "" {
					t.Errorf("%s: a restart without a reason", ch.Path)
				}
				if (ch.Class == Live) != (ch.Op != nil) {
					t.Errorf("%s: class %s with op %v", ch.Path, ch.Class, ch.Op)
				}
			}
			if after, _ := xml.Marshal(old); string(after) != string(before) {
				t.Errorf("Domain changed its input")
			}
		})
	}
}

// TestDomainCoversEveryDeviceKind fails when libvirtxml has a kind of
// device that the classifier has no policy for or that no case above
// exercises.
func TestDomainCoversEveryDeviceKind(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range domainCases {
		for _, doc := range []string{domainXML(c.oldTop, c.oldDevices), domainXML(c.newTop, c.newDevices)} {
			v := reflect.ValueOf(parseDomain(t, doc).Devices).Elem()
			for i := 0; i < v.NumField(); i++ {
				if !isZero(v.Field(i)) {
					covered[v.Type().Field(i).Name] = true
				}
			}
		}
	}
	ft := reflect.TypeOf(libvirtxml.DomainDeviceList{})
	for i := 0; i < ft.NumField(); i++ {
		name := ft.Field(i).Name
		if name == "IOMMU" {
			continue // libvirtxml's copy of IOMMUs[0], never written on its own
		}
		if !covered[name] {
			t.Errorf("no case has a device of DomainDeviceList.%s", name)
		}
		if _, ok := deviceKinds[name]; !ok && name != "Emulator" {
			t.Errorf("deviceKinds has no policy for DomainDeviceList.%s", name)
		}
	}
}

// TestDomainOps checks the arguments of the libvirt calls.
func TestDomainOps(t *testing.T) {
	op := func(top0, dev0, top1, dev1 string) *Op {
		t.Helper()
		cs := Domain(parseDomain(t, domainXML(top0, dev0)), parseDomain(t, domainXML(top1, dev1)))
		if len(cs) != 1 || cs[0].Op == nil {
			t.Fatalf("want one live change, got %v", cs)
		}
		return cs[0].Op
	}
	if o := op("", "", "", vdb); !strings.Contains(o.XML, "<target dev=\"vdb\" bus=\"virtio\">") || !strings.HasPrefix(o.XML, "<disk type=\"file\" device=\"disk\">") {
		t.Errorf("attach XML:\n%s", o.XML)
	}
	withAlias := strings.Replace(cdrom, "</disk>", "<alias name='sata0-0-0'/><boot order='2'/></disk>", 1)
	o := op("", withAlias, "", strings.Replace(strings.Replace(cdrom, "one.iso", "two.iso", 1), "</disk>", "<boot order='2'/></disk>", 1))
	if !strings.Contains(o.XML, "two.iso") || !strings.Contains(o.XML, "sata0-0-0") || !strings.Contains(o.XML, "order=\"2\"") {
		t.Errorf("update XML keeps libvirt's alias and gives the new media:\n%s", o.XML)
	}
	if o := op("", "", "<currentMemory unit='MiB'>128</currentMemory>", ""); o.Count != 128*1024 {
		t.Errorf("set-memory %d KiB, want %d", o.Count, 128*1024)
	}
	if o := op("<vcpu current='1'>4</vcpu>", "", "<vcpu current='3'>4</vcpu>", ""); o.Count != 3 {
		t.Errorf("set-vcpus %d, want 3", o.Count)
	}
	o = op("<memtune><hard_limit unit='MiB'>1024</hard_limit><soft_limit unit='MiB'>512</soft_limit></memtune>", "",
		"<memtune><soft_limit unit='MiB'>256</soft_limit></memtune>", "")
	if got := fmt.Sprint(o.Params); got != fmt.Sprintf("[hard_limit=%d soft_limit=262144]", memoryUnlimited) {
		t.Errorf("memtune params %s", got)
	}
	o = op("<blkiotune><device><path>/dev/sda</path><weight>500</weight></device><device><path>/dev/sdb</path><read_bytes_sec>10</read_bytes_sec></device></blkiotune>", "",
		"<blkiotune><device><path>/dev/sda</path><weight>700</weight></device></blkiotune>", "")
	if got := fmt.Sprint(o.Params); got != `[device_weight="/dev/sda,700" device_read_bytes_sec="/dev/sdb,0"]` {
		t.Errorf("blkiotune params %s", got)
	}
	o = op("", "", "<cputune><shares>2048</shares><quota>-1</quota></cputune>", "")
	if got := fmt.Sprint(o.Params); got != "[cpu_shares=2048 vcpu_quota=-1]" {
		t.Errorf("cputune params %s", got)
	}
	if o := op("<cputune><vcpupin vcpu='3' cpuset='0'/></cputune>", "", "<cputune><vcpupin vcpu='3' cpuset='1-2'/></cputune>", ""); o.Index != 3 || o.CPUSet != "1-2" {
		t.Errorf("pin-vcpu %+v, want vCPU 3 on 1-2", o)
	}
	if o := op("<cputune><vcpupin vcpu='1' cpuset='0'/></cputune>", "", "", ""); o.Index != 1 || o.CPUSet != "" {
		t.Errorf("a vCPU pin taken out: %+v, want vCPU 1 on every host CPU", o)
	}
	if o := op("<vcpu cpuset='2-3'>2</vcpu><cputune><emulatorpin cpuset='0'/></cputune>", "", "<vcpu cpuset='2-3'>2</vcpu>", ""); o.Kind != PinEmulator || o.CPUSet != "2-3" {
		t.Errorf("an emulator pin taken out: %+v, want the vcpu cpuset", o)
	}
	if o := op("<iothreads>2</iothreads>", "", "<iothreads>2</iothreads><cputune><iothreadpin iothread='2' cpuset='5'/></cputune>", ""); o.Kind != PinIOThread || o.Index != 2 || o.CPUSet != "5" {
		t.Errorf("pin-iothread %+v, want I/O thread 2 on 5", o)
	}
}

func TestCPUSet(t *testing.T) {
	for _, c := range []struct {
		cpus map[int]bool
		want string
	}{
		{map[int]bool{0: true, 1: true}, "0-1"},
		{map[int]bool{0: true, 1: false, 2: true, 3: true, 4: true, 6: true}, "0,2-4,6"},
		{map[int]bool{0: false, 1: true}, "1"},
		{map[int]bool{}, ""},
	} {
		if got := CPUSet(c.cpus); got != c.want {
			t.Errorf("CPUSet(%v) = %q, want %q", c.cpus, got, c.want)
		}
		if c.want == "" {
			continue
		}
		m, err := cpuMap(c.want)
		if err != nil {
			t.Fatal(err)
		}
		for n, on := range c.cpus {
			if on != (n < len(m) && m[n]) {
				t.Errorf("%q read back: CPU %d %v", c.want, n, !on)
			}
		}
	}
}

func TestCPUMap(t *testing.T) {
	for _, c := range []struct {
		cpuset string
		want   []bool
	}{
		{"0", []bool{true}},
		{"2", []bool{false, false, true}},
		{"0-3,^2", []bool{true, true, false, true}},
		{"1, 3-4", []bool{false, true, false, true, true}},
		{"^1,0-1", []bool{true, true}},
	} {
		got, err := cpuMap(c.cpuset)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("cpuMap(%q) = %v, %v; want %v", c.cpuset, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "x", "3-1", "^0-1", "-1", "0,^0"} {
		if got, err := cpuMap(bad); err == nil {
			t.Errorf("cpuMap(%q) = %v, want an error", bad, got)
		}
	}
}

func TestDiskIOTune(t *testing.T) {
	old := parseDomain(t, domainXML("", strings.Replace(cdrom, "</disk>", "<iotune><read_bytes_sec>1000</read_bytes_sec><group_name>g</group_name></iotune></disk>", 1)))
	new := parseDomain(t, domainXML("", strings.Replace(cdrom, "</disk>", "<iotune><total_iops_sec>5</total_iops_sec><group_name>g</group_name></iotune></disk>", 1)))
	cs := Domain(old, new)
	if len(cs) != 1 || cs[0].Op.Device != "sda" || fmt.Sprint(cs[0].Op.Params) != "[read_bytes_sec=0 total_iops_sec=5]" {
		t.Errorf("got %v %+v", cs, cs[0].Op)
	}
	var p libvirt.DomainBlockIoTuneParameters
	fields := blockIoTuneFields(&p)
	if len(fields) != reflect.TypeOf(libvirtxml.DomainDiskIOTune{}).NumField() {
		t.Errorf("%d of %d iotune fields map to libvirt's parameters", len(fields), reflect.TypeOf(libvirtxml.DomainDiskIOTune{}).NumField())
	}
	if err := setParams(cs[0].Op.Params, fields); err != nil || !p.TotalIopsSecSet || p.TotalIopsSec != 5 || !p.ReadBytesSecSet || p.GroupNameSet {
		t.Errorf("got %v %+v", err, p)
	}
}

func TestStillHas(t *testing.T) {
	running := parseDomain(t, domainXML("", strings.Replace(nicA, "</interface>", "<alias name='net0'/></interface>", 1)+"<rng model='virtio'><backend model='random'>/dev/urandom</backend><alias name='rng0'/></rng>"))
	if !stillHas(running, "interface", nicA) {
		t.Error("the interface is there, by its MAC")
	}
	if stillHas(running, "interface", nicB) {
		t.Error("another MAC is not")
	}
	if !stillHas(running, "rng", "<rng model='virtio'><alias name='rng0'/></rng>") {
		t.Error("the RNG is there, by its alias")
	}
	if stillHas(running, "rng", "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>") {
		t.Error("an RNG without alias has nothing that identifies it")
	}
}

func TestSetParams(t *testing.T) {
	var set bool
	var n uint64
	var s string
	u, str := uint64(7), "x"
	fields := map[string]paramField{"n": paramField{&set, &n}, "s": paramField{new(bool), &s}}
	if err := setParams([]Param{{Name: "n", Uint: &u}, {Name: "s", Str: &str}}, fields); err != nil || !set || n != 7 || s != "x" {
		t.Errorf("got %v %v %d %q", err, set, n, s)
	}
	if err := setParams([]Param{{Name: "other", Uint: &u}}, fields); err == nil {
		t.Error("an unknown parameter is an error")
	}
	if err := setParams([]Param{{Name: "n", Str: &str}}, fields); err == nil {
		t.Error("a parameter of the wrong type is an error")
	}
}

// BenchmarkDomain classifies a change of a guest with a dozen devices.
func BenchmarkDomain(b *testing.B) {
	devices := vdb + sdb + cdrom + nicA + nicB + vncPass +
		"<controller type='scsi' index='0' model='virtio-scsi'/><controller type='usb' index='0' model='qemu-xhci'/>" +
		"<input type='tablet' bus='usb'/><video><model type='virtio'/></video><rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>" +
		"<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel><memballoon model='virtio'/>"
	var old, new libvirtxml.Domain
	old.Unmarshal(domainXML("<vcpu current='1'>2</vcpu>", devices))
	new.Unmarshal(domainXML("<vcpu current='2'>2</vcpu><currentMemory unit='MiB'>128</currentMemory>", strings.Replace(devices, "one.iso", "two.iso", 1)))
	for b.Loop() {
		if len(Domain(&old, &new)) != 3 {
			b.Fatal("want three changes")
		}
	}
}
