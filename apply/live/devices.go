package live

import (
	"encoding/xml"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// deviceKind is what nixvirt knows of one kind of device, a field of
// libvirtxml.DomainDeviceList.
type deviceKind struct {
	// key is what identifies a device of this kind to libvirt; "" when
	// nothing but its alias, address or content does.
	key func(dev any) string
	// plug says why a device cannot be attached to or detached from a
	// running guest; "" when it can.
	plug func(dev any) string
	// update says whether a device changed in place (both given without
	// alias, address and boot order) can be changed on the running guest
	// by virDomainUpdateDeviceFlags, and if not, why; nil when no change
	// can.
	update func(old, new any) (ok bool, why string)
	// started takes out of a running device (a copy, changed in place)
	// what libvirt chose as it started the guest where the definition's
	// device (new) left the choice to it; nil when libvirt chooses
	// nothing.
	started func(running, new any)
	// tune names the field of settings that libvirt changes on a running
	// guest by a call of their own, and tuned makes that change.
	tune  string
	tuned func(path string, old, new any) Change
}

// never is the plug of a kind libvirt's QEMU driver cannot hot-plug.
func never(what string) func(any) string {
	return func(any) string { return what + " cannot be hot-plugged" }
}

func always(any) string { return "" }

// deviceKinds are the kinds of devices by their field in
// libvirtxml.DomainDeviceList, with what libvirt's QEMU driver can do to
// each on a running guest.
var deviceKinds = map[string]deviceKind{
	"Disks": {
		key: func(d any) string {
			if t := d.(*libvirtxml.DomainDisk).Target; t != nil {
				return t.Dev
			}
			return ""
		},
		plug: func(d any) string {
			bus := diskBus(d.(*libvirtxml.DomainDisk))
			switch bus {
			case "virtio", "scsi", "usb":
				return ""
			case "":
				return "a disk without a target bus cannot be hot-plugged"
			}
			return fmt.Sprintf("a disk on the %s bus cannot be hot-plugged (virtio, scsi and usb can)", bus)
		},
		tune:  "IOTune",
		tuned: diskIOTune,
		update: func(o, n any) (bool, string) {
			od, nd := o.(*libvirtxml.DomainDisk), n.(*libvirtxml.DomainDisk)
			if nd.Device != "cdrom" && nd.Device != "floppy" {
				return false, "only a CD-ROM's or floppy's media can change on a running guest"
			}
			// Media change: the source and what it is backed by.
			od.Source, od.BackingStore = nil, nil
			nd.Source, nd.BackingStore = nil, nil
			if marshalAs("disk", od) != marshalAs("disk", nd) {
				return false, "only the media (source) of a CD-ROM or floppy can change on a running guest"
			}
			return true, ""
		},
	},
	"Controllers": {
		key: func(d any) string {
			c := d.(*libvirtxml.DomainController)
			if c.Index == nil {
				return ""
			}
			return c.Type + "/" + strconv.FormatUint(uint64(*c.Index), 10)
		},
		plug: func(d any) string {
			if t := d.(*libvirtxml.DomainController).Type; t != "scsi" {
				return fmt.Sprintf("a %s controller cannot be hot-plugged (a scsi one can)", t)
			}
			return ""
		},
	},
	"Leases": {
		key: func(d any) string {
			l := d.(*libvirtxml.DomainLease)
			return l.Lockspace + "/" + l.Key
		},
		plug: always,
	},
	"Filesystems": {
		key: func(d any) string {
			if t := d.(*libvirtxml.DomainFilesystem).Target; t != nil {
				return t.Dir
			}
			return ""
		},
		plug: func(d any) string {
			if dr := d.(*libvirtxml.DomainFilesystem).Driver; dr != nil && dr.Type == "virtiofs" {
				return ""
			}
			return "only a virtiofs filesystem can be hot-plugged"
		},
	},
	"Interfaces": {
		key: func(d any) string {
			if m := d.(*libvirtxml.DomainInterface).MAC; m != nil {
				return strings.ToLower(m.Address)
			}
			return ""
		},
		plug: always,
		update: func(o, n any) (bool, string) {
			oi, ni := o.(*libvirtxml.DomainInterface), n.(*libvirtxml.DomainInterface)
			// libvirt moves a running interface between networks and
			// bridges, and sets its link state, bandwidth, filter and
			// interrupt coalescing.
			if switchable(oi.Source) && switchable(ni.Source) {
				oi.Source, ni.Source = nil, nil
			}
			oi.Link, oi.Bandwidth, oi.FilterRef, oi.Coalesce = nil, nil, nil, nil
			ni.Link, ni.Bandwidth, ni.FilterRef, ni.Coalesce = nil, nil, nil, nil
			if marshalAs("interface", oi) != marshalAs("interface", ni) {
				return false, "only the link state, bandwidth, filter, coalescing and the network or bridge of an interface can change on a running guest"
			}
			return true, ""
		},
	},
	"Smartcards": {plug: never("a smartcard")},
	"Serials":    {key: serialKey, plug: serialPlug},
	"Parallels":  {key: parallelKey, plug: never("a parallel port")},
	"Consoles":   {key: consoleKey, plug: never("a console")},
	"Channels":   {key: channelKey, plug: channelPlug},
	"Inputs":     {key: inputKey, plug: inputPlug},
	"TPMs":       {plug: never("a TPM")},
	"Graphics": {key: graphicsType, plug: never("a graphics device"), update: graphicsUpdate,
		started: func(r, n any) { startedGraphics(r.(*libvirtxml.DomainGraphic), n.(*libvirtxml.DomainGraphic)) }},
	"Sounds":       {plug: never("a sound device")},
	"Audios":       {plug: never("an audio backend")},
	"Videos":       {plug: never("a video device")},
	"Hostdevs":     {plug: hostdevPlug},
	"RedirDevs":    {plug: always},
	"RedirFilters": {plug: never("a USB redirection filter")},
	"Hubs":         {plug: never("a USB hub")},
	"Watchdogs": {
		key:  func(d any) string { return d.(*libvirtxml.DomainWatchdog).Model },
		plug: always,
	},
	"MemBalloon": {key: single, plug: never("a memory balloon")},
	"RNGs":       {plug: always},
	"NVRAM":      {key: single, plug: never("an NVRAM device")},
	"Panics":     {plug: never("a panic device")},
	"Shmems": {
		key: func(d any) string { return d.(*libvirtxml.DomainShmem).Name },
		plug: func(d any) string {
			if m := d.(*libvirtxml.DomainShmem).Model; m != nil && (m.Type == "ivshmem-plain" || m.Type == "ivshmem-doorbell") {
				return ""
			}
			return "only an ivshmem-plain or ivshmem-doorbell shared memory device can be hot-plugged"
		},
	},
	"Memorydevs": {
		// Model, node and size: a virtio-mem device keeps its identity
		// when its requested size changes.
		key: func(d any) string {
			m := d.(*libvirtxml.DomainMemorydev)
			if m.Target == nil || m.Target.Size == nil {
				return ""
			}
			node := ""
			if m.Target.Node != nil {
				node = fmt.Sprintf(" node %d", m.Target.Node.Value)
			}
			return fmt.Sprintf("%s%s %d KiB", m.Model, node, kib(uint64(m.Target.Size.Value), m.Target.Size.Unit))
		},
		plug: func(d any) string {
			switch m := d.(*libvirtxml.DomainMemorydev).Model; m {
			case "dimm", "nvdimm", "virtio-pmem", "virtio-mem":
				return ""
			default:
				return fmt.Sprintf("a %s memory device cannot be hot-plugged", m)
			}
		},
		update: func(o, n any) (bool, string) {
			om, nm := o.(*libvirtxml.DomainMemorydev), n.(*libvirtxml.DomainMemorydev)
			if nm.Model != "virtio-mem" {
				return false, "only the requested size of a virtio-mem device can change on a running guest"
			}
			clear := func(m *libvirtxml.DomainMemorydev) {
				if m.Target != nil {
					t := *m.Target
					t.Requested = nil
					m.Target = &t
				}
			}
			clear(om)
			clear(nm)
			if marshalAs("memory", om) != marshalAs("memory", nm) {
				return false, "only the requested size of a virtio-mem device can change on a running guest"
			}
			return true, ""
		},
	},
	"IOMMUs": {plug: never("an IOMMU")},
	"VSock":  {key: single, plug: always},
	"Crypto": {plug: never("a crypto device")},
	"PStore": {key: single, plug: never("a pstore device")},
}

// single is the key of a kind a domain has at most one of.
func single(any) string { return "the one" }

// diskIOTune sets a disk's I/O throttling to the new definition's: every
// value that differs, 0 (no limit) for one taken out.
func diskIOTune(path string, o, n any) Change {
	od, nd := o.(*libvirtxml.DomainDisk), n.(*libvirtxml.DomainDisk)
	var from, to libvirtxml.DomainDiskIOTune
	if od.IOTune != nil {
		from = *od.IOTune
	}
	if nd.IOTune != nil {
		to = *nd.IOTune
	}
	fv, tv := reflect.ValueOf(from), reflect.ValueOf(to)
	var params []Param
	for i := 0; i < fv.NumField(); i++ {
		if fv.Field(i).Equal(tv.Field(i)) {
			continue
		}
		p := Param{Name: fieldPath(fv.Type().Field(i))}
		switch v := tv.Field(i).Interface().(type) {
		case uint64:
			p.Uint = &v
		case string:
			if v == "" {
				// A group is left by setting no limits.
				continue
			}
			p.Str = &v
		}
		params = append(params, p)
	}
	return Change{Class: Live, Path: path + ".iotune", Op: &Op{Kind: SetBlockIoTune, Device: nd.Target.Dev, Params: params}}
}

// diskBus is a disk's target bus, or the bus libvirt infers from the
// target's name.
func diskBus(d *libvirtxml.DomainDisk) string {
	if d.Target == nil {
		return ""
	}
	if d.Target.Bus != "" {
		return d.Target.Bus
	}
	for _, p := range []struct{ prefix, bus string }{{"vd", "virtio"}, {"sd", "scsi"}, {"hd", "ide"}, {"fd", "fdc"}, {"xvd", "xen"}, {"ub", "usb"}} {
		if strings.HasPrefix(d.Target.Dev, p.prefix) {
			return p.bus
		}
	}
	return ""
}

func switchable(s *libvirtxml.DomainInterfaceSource) bool {
	return s != nil && (s.Network != nil || s.Bridge != nil)
}

func serialKey(d any) string {
	if t := d.(*libvirtxml.DomainSerial).Target; t != nil && t.Port != nil {
		return "port " + strconv.FormatUint(uint64(*t.Port), 10)
	}
	return ""
}

func serialPlug(d any) string {
	if t := d.(*libvirtxml.DomainSerial).Target; t != nil && (t.Type == "usb-serial" || t.Type == "pci-serial") {
		return ""
	}
	return "a serial port cannot be hot-plugged unless its target type is usb-serial or pci-serial"
}

func parallelKey(d any) string {
	if t := d.(*libvirtxml.DomainParallel).Target; t != nil && t.Port != nil {
		return "port " + strconv.FormatUint(uint64(*t.Port), 10)
	}
	return ""
}

func consoleKey(d any) string {
	if t := d.(*libvirtxml.DomainConsole).Target; t != nil && t.Port != nil {
		return t.Type + " port " + strconv.FormatUint(uint64(*t.Port), 10)
	}
	return ""
}

func channelKey(d any) string {
	if t := d.(*libvirtxml.DomainChannel).Target; t != nil && t.VirtIO != nil {
		return t.VirtIO.Name
	}
	return ""
}

func channelPlug(d any) string {
	if t := d.(*libvirtxml.DomainChannel).Target; t != nil && t.VirtIO != nil {
		return ""
	}
	return "only a virtio channel can be hot-plugged"
}

func inputKey(d any) string {
	i := d.(*libvirtxml.DomainInput)
	return i.Type + "/" + i.Bus
}

func inputPlug(d any) string {
	if b := d.(*libvirtxml.DomainInput).Bus; b == "virtio" || b == "usb" {
		return ""
	}
	return "only an input device on the virtio or usb bus can be hot-plugged"
}

func hostdevPlug(d any) string {
	h := d.(*libvirtxml.DomainHostdev)
	if h.SubsysPCI != nil || h.SubsysUSB != nil || h.SubsysSCSI != nil || h.SubsysSCSIHost != nil || h.SubsysMDev != nil {
		return ""
	}
	return "a hostdev in capabilities mode cannot be hot-plugged"
}

func graphicsType(d any) string {
	g := d.(*libvirtxml.DomainGraphic)
	switch {
	case g.VNC != nil:
		return "vnc"
	case g.Spice != nil:
		return "spice"
	case g.SDL != nil:
		return "sdl"
	case g.RDP != nil:
		return "rdp"
	case g.Desktop != nil:
		return "desktop"
	case g.EGLHeadless != nil:
		return "egl-headless"
	case g.DBus != nil:
		return "dbus"
	}
	return ""
}

// graphicsUpdate allows what libvirt changes on running graphics: the
// password, its expiry and what happens to connected clients.
func graphicsUpdate(o, n any) (bool, string) {
	og, ng := o.(*libvirtxml.DomainGraphic), n.(*libvirtxml.DomainGraphic)
	for _, g := range []*libvirtxml.DomainGraphic{og, ng} {
		if g.VNC != nil {
			v := *g.VNC
			v.Passwd, v.PasswdValidTo, v.Connected = "", "", ""
			g.VNC = &v
		}
		if g.Spice != nil {
			s := *g.Spice
			s.Passwd, s.PasswdValidTo, s.Connected = "", "", ""
			g.Spice = &s
		}
	}
	if marshalAs("graphics", og) != marshalAs("graphics", ng) {
		return false, "only the password, its expiry and connected clients' fate can change on running graphics"
	}
	return true, ""
}

// startedGraphics takes out of a running guest's graphics r what
// libvirt chose as it started the guest where the definition w left the
// choice to it: an automatic port (port -1 or autoport), WebSocket port
// (-1), and the address it listens on (qemu.conf's default, a network's
// address), which the running definition shows and the persistent one
// does not.
func startedGraphics(r, w *libvirtxml.DomainGraphic) {
	if r.VNC != nil && w.VNC != nil {
		v := *r.VNC
		r.VNC = &v
		rv, wv := r.VNC, w.VNC
		if wv.AutoPort == "yes" || wv.Port == -1 {
			rv.Port, rv.AutoPort = wv.Port, wv.AutoPort
		}
		if wv.WebSocket == -1 {
			rv.WebSocket = -1
		}
		if wv.Listen == "" {
			rv.Listen = ""
		}
		rv.Listeners = chosenListeners(rv.Listeners, wv.Listeners)
	}
	if r.Spice != nil && w.Spice != nil {
		sp := *r.Spice
		r.Spice = &sp
		rs, ws := r.Spice, w.Spice
		if ws.AutoPort == "yes" || ws.Port == -1 {
			rs.Port, rs.AutoPort = ws.Port, ws.AutoPort
		}
		if ws.AutoPort == "yes" || ws.TLSPort == -1 {
			rs.TLSPort = ws.TLSPort
		}
		if ws.Listen == "" {
			rs.Listen = ""
		}
		rs.Listeners = chosenListeners(rs.Listeners, ws.Listeners)
	}
}

// chosenListeners is a running guest's listeners r without the addresses
// libvirt filled in where the definition's w gave none; a definition with
// no listener gets libvirt's address listener, which goes too.
func chosenListeners(r, w []libvirtxml.DomainGraphicListener) []libvirtxml.DomainGraphicListener {
	if len(w) == 0 {
		for _, l := range r {
			if l.Address == nil {
				return r
			}
		}
		return nil
	}
	out := append([]libvirtxml.DomainGraphicListener(nil), r...)
	for i := range out {
		if i >= len(w) {
			break
		}
		switch {
		case w[i].Address != nil && w[i].Address.Address == "" && out[i].Address != nil:
			a := *out[i].Address
			a.Address = ""
			out[i].Address = &a
		case w[i].Network != nil && w[i].Network.Address == "" && out[i].Network != nil:
			n := *out[i].Network
			n.Address = ""
			out[i].Network = &n
		}
	}
	return out
}

// deviceChanges compares the devices of two definitions kind by kind.
func deviceChanges(old, new *libvirtxml.DomainDeviceList) []Change {
	if old == nil {
		old = &libvirtxml.DomainDeviceList{}
	}
	if new == nil {
		new = &libvirtxml.DomainDeviceList{}
	}
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem()
	t := ov.Type()
	var cs []Change
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch f.Name {
		case "IOMMU":
			// libvirtxml's copy of the first of IOMMUs.
			continue
		case "Emulator":
			if old.Emulator != new.Emulator {
				cs = append(cs, Change{Class: Restart, Path: "devices.emulator",
					Reason: "the emulator of a running guest is the process itself"})
			}
			continue
		}
		kind, ok := deviceKinds[f.Name]
		if !ok {
			// A kind newer than this table: compare it whole.
			if marshalAs("devices", devicesOnly(ov, i)) != marshalAs("devices", devicesOnly(nv, i)) {
				cs = append(cs, Change{Class: Restart, Path: "devices." + fieldPath(f),
					Reason: "nixvirt does not know whether libvirt can change it on a running guest"})
			}
			continue
		}
		cs = append(cs, kind.changes(fieldPath(f), list(ov.Field(i)), list(nv.Field(i)))...)
	}
	return cs
}

func devicesOnly(v reflect.Value, i int) *libvirtxml.DomainDeviceList {
	var one libvirtxml.DomainDeviceList
	reflect.ValueOf(&one).Elem().Field(i).Set(v.Field(i))
	return &one
}

// list is the devices of a field, a list or a single pointer, as
// pointers into the definition.
func list(v reflect.Value) []any {
	var out []any
	switch v.Kind() {
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			out = append(out, v.Index(i).Addr().Interface())
		}
	case reflect.Pointer:
		if !v.IsNil() {
			out = append(out, v.Interface())
		}
	}
	return out
}

// withoutPlacement is a copy of a device without what libvirt assigns
// (alias, address) and, if boot is false, without its boot order.
func withoutPlacement(dev any, boot bool) any {
	v := reflect.ValueOf(dev).Elem()
	c := reflect.New(v.Type())
	c.Elem().Set(v)
	names := []string{"Alias", "Address"}
	if !boot {
		names = append(names, "Boot")
	}
	for _, name := range names {
		if f := c.Elem().FieldByName(name); f.IsValid() {
			f.Set(reflect.Zero(f.Type()))
		}
	}
	return c.Interface()
}

func field(dev any, name string) reflect.Value {
	return reflect.ValueOf(dev).Elem().FieldByName(name)
}

func aliasOf(dev any) string {
	if f := field(dev, "Alias"); f.IsValid() && !f.IsNil() {
		return f.Interface().(*libvirtxml.DomainAlias).Name
	}
	return ""
}

func addressOf(dev any) string {
	if f := field(dev, "Address"); f.IsValid() && !f.IsNil() {
		return marshalAs("address", f.Interface())
	}
	return ""
}

// identity says whether two devices are the same one to libvirt: yes or
// no when a key, alias or address on both sides decides it, unknown when
// nothing does and only their content can.
type identity int

const (
	unknown identity = iota
	same
	different
)

func (k deviceKind) identity(o, n any) identity {
	decide := func(a, b string) identity {
		if a == b {
			return same
		}
		return different
	}
	if k.key != nil {
		if a, b := k.key(o), k.key(n); a != "" && b != "" {
			return decide(a, b)
		}
	}
	if a, b := aliasOf(o), aliasOf(n); a != "" && b != "" {
		return decide(a, b)
	}
	if a, b := addressOf(o), addressOf(n); a != "" && b != "" {
		return decide(a, b)
	}
	return unknown
}

// label names a device in a change's path.
func (k deviceKind) label(dev any, index int) string {
	if k.key != nil {
		switch s := k.key(dev); {
		case s == single(nil):
			return ""
		case s != "":
			return "[" + s + "]"
		}
	}
	if a := aliasOf(dev); a != "" {
		return "[" + a + "]"
	}
	return "[" + strconv.Itoa(index) + "]"
}

// changes matches the old and new devices of one kind by identity and
// classifies what was removed, changed and added.
func (k deviceKind) changes(name string, olds, news []any) []Change {
	match := make([]int, len(news))
	used := make([]bool, len(olds))
	for j := range match {
		match[j] = -1
	}
	// Devices whose key, alias or address says who they are first, then
	// the rest by content, so that content never takes a keyed device.
	for j, n := range news {
		for i, o := range olds {
			if !used[i] && k.identity(o, n) == same {
				match[j], used[i] = i, true
				break
			}
		}
	}
	for j, n := range news {
		if match[j] >= 0 {
			continue
		}
		for i, o := range olds {
			if !used[i] && k.identity(o, n) == unknown &&
				marshalAs(name, withoutPlacement(o, false)) == marshalAs(name, withoutPlacement(n, false)) {
				match[j], used[i] = i, true
				break
			}
		}
	}
	var cs []Change
	path := func(dev any, index int) string { return "devices." + name + k.label(dev, index) }
	for i, o := range olds {
		if used[i] {
			continue
		}
		if why := k.plug(o); why != "" {
			cs = append(cs, Change{Class: Restart, Path: path(o, i), Reason: "removed, but " + why})
		} else {
			cs = append(cs, Change{Class: Live, Path: path(o, i), Op: &Op{Kind: DetachDevice, Device: name, XML: marshalAs(name, o)}})
		}
	}
	for j, n := range news {
		if match[j] < 0 {
			continue
		}
		o := olds[match[j]]
		oc, nc := withoutPlacement(o, false), withoutPlacement(n, false)
		bootChanged := false
		if b := field(o, "Boot"); b.IsValid() {
			bootChanged = marshalAs("boot", b.Interface()) != marshalAs("boot", field(n, "Boot").Interface())
		}
		if bootChanged {
			cs = append(cs, Change{Class: NextBoot, Path: path(n, j) + ".boot",
				Reason: "the boot order is read when the guest starts"})
		}
		if k.tune != "" {
			ot, nt := field(oc, k.tune), field(nc, k.tune)
			if marshalAs("tune", ot.Interface()) != marshalAs("tune", nt.Interface()) {
				cs = append(cs, k.tuned(path(n, j), o, n))
			}
			// The rest is compared, and updated, with the old settings.
			nt.Set(ot)
		}
		if k.started != nil {
			k.started(oc, nc)
		}
		if marshalAs(name, oc) == marshalAs(name, nc) {
			continue
		}
		if k.update == nil {
			cs = append(cs, Change{Class: Restart, Path: path(n, j),
				Reason: "libvirt cannot change a " + name + " in place on a running guest"})
			continue
		}
		if ok, why := k.update(oc, nc); !ok {
			cs = append(cs, Change{Class: Restart, Path: path(n, j), Reason: why})
			continue
		}
		// The new device, keeping the old boot order (a next-boot change)
		// and the old placement where the new one leaves it to libvirt.
		up := withoutPlacement(n, true)
		for _, f := range []string{"Alias", "Address"} {
			if nf := field(n, f); nf.IsValid() && !nf.IsNil() {
				field(up, f).Set(nf)
			} else if nf.IsValid() {
				field(up, f).Set(field(o, f))
			}
		}
		if b := field(up, "Boot"); b.IsValid() {
			b.Set(field(o, "Boot"))
		}
		if k.tune != "" {
			field(up, k.tune).Set(field(o, k.tune))
		}
		cs = append(cs, Change{Class: Live, Path: path(n, j), Op: &Op{Kind: UpdateDevice, Device: name, XML: marshalAs(name, up)}})
	}
	for j, n := range news {
		if match[j] >= 0 {
			continue
		}
		if why := k.plug(n); why != "" {
			cs = append(cs, Change{Class: Restart, Path: path(n, j), Reason: "added, but " + why})
		} else {
			cs = append(cs, Change{Class: Live, Path: path(n, j), Op: &Op{Kind: AttachDevice, Device: name, XML: marshalAs(name, n)}})
		}
	}
	return cs
}

// deviceField is the field of libvirtxml.DomainDeviceList that holds
// devices of an element name, and its policy.
func deviceField(element string) (reflect.StructField, deviceKind, bool) {
	t := reflect.TypeOf(libvirtxml.DomainDeviceList{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if k, ok := deviceKinds[f.Name]; ok && fieldPath(f) == element {
			return f, k, true
		}
	}
	return reflect.StructField{}, deviceKind{}, false
}

// stillHas reports whether a definition still has the device a detach
// named, by its key, alias or address; a device that nothing but its
// content identifies is not looked for, since libvirt's running
// definition adds to what was given.
func stillHas(d *libvirtxml.Domain, element, deviceXML string) bool {
	f, k, ok := deviceField(element)
	if !ok || d.Devices == nil {
		return false
	}
	elem := f.Type.Elem()
	gone := reflect.New(elem)
	if err := xml.Unmarshal([]byte(deviceXML), gone.Interface()); err != nil {
		return false
	}
	for _, dev := range list(reflect.ValueOf(d.Devices).Elem().FieldByIndex(f.Index)) {
		if k.identity(gone.Interface(), dev) == same {
			return true
		}
	}
	return false
}
