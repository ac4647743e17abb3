package live

import (
	"encoding/xml"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// Domain returns the differences between the old and the new definition
// of a running domain, each classified: live with the call that applies
// it, next boot, or restart with the reason. Both definitions are read as
// nixvirt compares them (sizes of memory and memtune are compared by
// value, whatever their units; everything else as written). Removals come
// before in-place changes and additions, so that a device whose identity
// moves is detached before its successor is attached.
func Domain(old, new *libvirtxml.Domain) []Change {
	var cs []Change
	ov, nv := reflect.ValueOf(old).Elem(), reflect.ValueOf(new).Elem()
	t := ov.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		path := fieldPath(f)
		switch f.Name {
		case "XMLName", "ID", "Name", "UUID":
			// Identity and libvirt's runtime id: renames are the caller's.
		case "Title":
			if old.Title != new.Title {
				cs = append(cs, Change{Class: Live, Path: path, Op: &Op{Kind: SetTitle, Text: new.Title}})
			}
		case "Description":
			if old.Description != new.Description {
				cs = append(cs, Change{Class: Live, Path: path, Op: &Op{Kind: SetDescription, Text: new.Description}})
			}
		case "Metadata":
			if domainFieldXML(old, i) != domainFieldXML(new, i) {
				cs = append(cs, Change{Class: NextBoot, Path: path,
					Reason: "metadata is kept for tools in the definition; the guest never reads it"})
			}
		case "OnPoweroff", "OnReboot", "OnCrash":
			event := strings.TrimPrefix(path, "on_")
			from, to := lifecycleAction(event, ov.Field(i).String()), lifecycleAction(event, nv.Field(i).String())
			if from != to {
				cs = append(cs, Change{Class: Live, Path: path, Op: &Op{Kind: SetLifecycleAction, Event: event, Text: to}})
			}
		case "Memory":
			if memoryKiB(old) != memoryKiB(new) {
				cs = append(cs, Change{Class: Restart, Path: path,
					Reason: "the maximum memory of a guest is fixed when it starts"})
			}
		case "CurrentMemory":
			cs = append(cs, currentMemory(old, new)...)
		case "VCPU":
			cs = append(cs, vcpus(old.VCPU, new.VCPU)...)
		case "MemoryTune":
			cs = append(cs, memtune(old.MemoryTune, new.MemoryTune)...)
		case "BlockIOTune":
			cs = append(cs, blkiotune(old.BlockIOTune, new.BlockIOTune)...)
		case "CPUTune":
			cs = append(cs, cputune(old.CPUTune, new.CPUTune, defaultCPUs(new))...)
		case "OS":
			cs = append(cs, osChanges(old.OS, new.OS)...)
		case "Devices":
			cs = append(cs, deviceChanges(old.Devices, new.Devices)...)
		default:
			if domainFieldXML(old, i) != domainFieldXML(new, i) {
				cs = append(cs, Change{Class: Restart, Path: path,
					Reason: fmt.Sprintf("libvirt cannot change %s on a running guest", path)})
			}
		}
	}
	return order(cs)
}

// lifecycleAction is what libvirt does on a guest's poweroff, reboot or
// crash, with libvirt's default when the definition says nothing.
func lifecycleAction(event, action string) string {
	if action != "" {
		return action
	}
	if event == "reboot" {
		return "restart"
	}
	return "destroy"
}

// order puts detaches first and attaches last, keeping the order of the
// definition otherwise.
func order(cs []Change) []Change {
	rank := func(c Change) int {
		switch {
		case c.Op != nil && c.Op.Kind == DetachDevice:
			return 0
		case c.Op != nil && c.Op.Kind == AttachDevice:
			return 2
		}
		return 1
	}
	var out []Change
	for r := 0; r <= 2; r++ {
		for _, c := range cs {
			if rank(c) == r {
				out = append(out, c)
			}
		}
	}
	return out
}

// fieldPath is the XML name of a struct field, the name of its element in
// a definition.
func fieldPath(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("xml"), ",")
	if name == "" || name == "-" {
		// Hypervisor namespaces: the element name is on the type.
		if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			if x, ok := f.Type.Elem().FieldByName("XMLName"); ok {
				tag, _, _ := strings.Cut(x.Tag.Get("xml"), ",")
				if _, local, ok := strings.Cut(tag, " "); ok {
					return local
				}
			}
		}
		return strings.ToLower(f.Name)
	}
	return name
}

// domainFieldXML is how libvirtxml writes field i of d alone: two values
// of a field are the same when they write the same XML, whether a list is
// nil or empty.
func domainFieldXML(d *libvirtxml.Domain, i int) string {
	var one libvirtxml.Domain
	reflect.ValueOf(&one).Elem().Field(i).Set(reflect.ValueOf(d).Elem().Field(i))
	b, err := xml.Marshal(&one)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b)
}

// sizeBytes are libvirt's size units; no unit is KiB in a domain.
var sizeBytes = map[string]uint64{
	"b": 1, "bytes": 1,
	"KB": 1e3, "k": 1 << 10, "K": 1 << 10, "KiB": 1 << 10, "": 1 << 10,
	"MB": 1e6, "m": 1 << 20, "M": 1 << 20, "MiB": 1 << 20,
	"GB": 1e9, "g": 1 << 30, "G": 1 << 30, "GiB": 1 << 30,
	"TB": 1e12, "t": 1 << 40, "T": 1 << 40, "TiB": 1 << 40,
	"PB": 1e15, "p": 1 << 50, "P": 1 << 50, "PiB": 1 << 50,
	"EB": 1e18, "e": 1 << 60, "E": 1 << 60, "EiB": 1 << 60,
}

// kib is a size in KiB, rounded up as libvirt does.
func kib(value uint64, unit string) uint64 {
	mult, ok := sizeBytes[unit]
	if !ok {
		mult = 1 << 10
	}
	return (value*mult + 1023) / 1024
}

func memoryKiB(d *libvirtxml.Domain) uint64 {
	if d.Memory == nil {
		return 0
	}
	return kib(uint64(d.Memory.Value), d.Memory.Unit)
}

// currentMemoryKiB is the balloon target, which is memory when it is not
// given.
func currentMemoryKiB(d *libvirtxml.Domain) uint64 {
	if d.CurrentMemory == nil {
		return memoryKiB(d)
	}
	return kib(uint64(d.CurrentMemory.Value), d.CurrentMemory.Unit)
}

func currentMemory(old, new *libvirtxml.Domain) []Change {
	from, to := currentMemoryKiB(old), currentMemoryKiB(new)
	if from == to {
		return nil
	}
	c := Change{Class: Restart, Path: "currentMemory"}
	switch {
	case memoryKiB(old) != memoryKiB(new):
		c.Reason = "memory changes too, which needs a restart"
	case to > memoryKiB(new):
		c.Reason = fmt.Sprintf("currentMemory (%d KiB) is above memory (%d KiB)", to, memoryKiB(new))
	default:
		c = Change{Class: Live, Path: "currentMemory", Op: &Op{Kind: SetMemory, Count: to}}
	}
	return []Change{c}
}

// vcpuCounts are the maximum and current vCPU counts; one vCPU when the
// element is missing, all of them when current is not given.
func vcpuCounts(v *libvirtxml.DomainVCPU) (maximum, current uint) {
	if v == nil || v.Value == 0 {
		return 1, 1
	}
	if v.Current == 0 {
		return v.Value, v.Value
	}
	return v.Value, v.Current
}

func vcpus(old, new *libvirtxml.DomainVCPU) []Change {
	oMax, oCur := vcpuCounts(old)
	nMax, nCur := vcpuCounts(new)
	placement := func(v *libvirtxml.DomainVCPU) string {
		if v == nil {
			return ""
		}
		return v.Placement + "/" + v.CPUSet
	}
	switch {
	case oMax != nMax:
		return []Change{{Class: Restart, Path: "vcpu", Reason: "the maximum vCPU count is fixed when the guest starts"}}
	case placement(old) != placement(new):
		return []Change{{Class: Restart, Path: "vcpu", Reason: "vCPU placement and cpuset are fixed when the guest starts"}}
	case oCur != nCur:
		return []Change{{Class: Live, Path: "vcpu.current", Op: &Op{Kind: SetVcpus, Count: uint64(nCur)}}}
	}
	return nil
}

// memoryUnlimited is VIR_DOMAIN_MEMORY_PARAM_UNLIMITED: a limit taken out
// of memtune is set back to it.
const memoryUnlimited = 9007199254740991

func memtune(old, new *libvirtxml.DomainMemoryTune) []Change {
	if old == nil {
		old = &libvirtxml.DomainMemoryTune{}
	}
	if new == nil {
		new = &libvirtxml.DomainMemoryTune{}
	}
	limit := func(l *libvirtxml.DomainMemoryTuneLimit) uint64 {
		if l == nil {
			return memoryUnlimited
		}
		return kib(l.Value, l.Unit)
	}
	var cs []Change
	if limit(old.MinGuarantee) != limit(new.MinGuarantee) {
		cs = append(cs, Change{Class: Restart, Path: "memtune.min_guarantee",
			Reason: "libvirt's QEMU driver cannot set min_guarantee"})
	}
	var params []Param
	for _, p := range []struct {
		name     string
		from, to *libvirtxml.DomainMemoryTuneLimit
	}{
		{"hard_limit", old.HardLimit, new.HardLimit},
		{"soft_limit", old.SoftLimit, new.SoftLimit},
		{"swap_hard_limit", old.SwapHardLimit, new.SwapHardLimit},
	} {
		if v := limit(p.to); v != limit(p.from) {
			params = append(params, Param{Name: p.name, Uint: &v})
		}
	}
	if params != nil {
		cs = append(cs, Change{Class: Live, Path: "memtune", Op: &Op{Kind: SetMemoryParameters, Params: params}})
	}
	return cs
}

func blkiotune(old, new *libvirtxml.DomainBlockIOTune) []Change {
	if old == nil {
		old = &libvirtxml.DomainBlockIOTune{}
	}
	if new == nil {
		new = &libvirtxml.DomainBlockIOTune{}
	}
	var cs []Change
	var params []Param
	if old.Weight != new.Weight {
		if new.Weight == 0 {
			cs = append(cs, Change{Class: Restart, Path: "blkiotune.weight",
				Reason: "libvirt has no call that takes a block I/O weight back to the default"})
		} else {
			w := uint64(new.Weight)
			params = append(params, Param{Name: "weight", Uint: &w})
		}
	}
	// Per-device values are strings of "path,value" pairs; a value of 0
	// takes a path's setting out.
	for _, p := range []struct {
		name  string
		value func(libvirtxml.DomainBlockIOTuneDevice) uint
	}{
		{"device_weight", func(d libvirtxml.DomainBlockIOTuneDevice) uint { return d.Weight }},
		{"device_read_iops_sec", func(d libvirtxml.DomainBlockIOTuneDevice) uint { return d.ReadIopsSec }},
		{"device_write_iops_sec", func(d libvirtxml.DomainBlockIOTuneDevice) uint { return d.WriteIopsSec }},
		{"device_read_bytes_sec", func(d libvirtxml.DomainBlockIOTuneDevice) uint { return d.ReadBytesSec }},
		{"device_write_bytes_sec", func(d libvirtxml.DomainBlockIOTuneDevice) uint { return d.WriteBytesSec }},
	} {
		from := map[string]uint{}
		for _, d := range old.Device {
			from[d.Path] = p.value(d)
		}
		var pairs []string
		seen := map[string]bool{}
		for _, d := range new.Device {
			seen[d.Path] = true
			if v := p.value(d); v != from[d.Path] {
				pairs = append(pairs, d.Path, strconv.FormatUint(uint64(v), 10))
			}
		}
		for _, d := range old.Device {
			if !seen[d.Path] && p.value(d) != 0 {
				pairs = append(pairs, d.Path, "0")
			}
		}
		if pairs != nil {
			s := strings.Join(pairs, ",")
			params = append(params, Param{Name: p.name, Str: &s})
		}
	}
	if params != nil {
		cs = append(cs, Change{Class: Live, Path: "blkiotune", Op: &Op{Kind: SetBlkioParameters, Params: params}})
	}
	return cs
}

// defaultCPUs are the host CPUs a thread of a domain runs on when it is
// not pinned: the vcpu element's cpuset, or "" for every host CPU.
func defaultCPUs(d *libvirtxml.Domain) string {
	if d.VCPU == nil {
		return ""
	}
	return d.VCPU.CPUSet
}

// cputune classifies the changes of cputune; unpinned is where a pin
// taken out leaves its thread (defaultCPUs).
func cputune(old, new *libvirtxml.DomainCPUTune, unpinned string) []Change {
	if old == nil {
		old = &libvirtxml.DomainCPUTune{}
	}
	if new == nil {
		new = &libvirtxml.DomainCPUTune{}
	}
	var cs []Change
	var params []Param
	unsigned := func(name, path string, from, to *uint64) {
		switch {
		case from == nil && to == nil, from != nil && to != nil && *from == *to:
		case to == nil:
			cs = append(cs, Change{Class: Restart, Path: "cputune." + path,
				Reason: "libvirt has no call that takes a scheduler setting back to the default"})
		default:
			v := *to
			params = append(params, Param{Name: name, Uint: &v})
		}
	}
	signed := func(name, path string, from, to *int64) {
		switch {
		case from == nil && to == nil, from != nil && to != nil && *from == *to:
		case to == nil:
			cs = append(cs, Change{Class: Restart, Path: "cputune." + path,
				Reason: "libvirt has no call that takes a scheduler setting back to the default"})
		default:
			v := *to
			params = append(params, Param{Name: name, Int: &v})
		}
	}
	shares := func(s *libvirtxml.DomainCPUTuneShares) *uint64 {
		if s == nil {
			return nil
		}
		v := uint64(s.Value)
		return &v
	}
	period := func(p *libvirtxml.DomainCPUTunePeriod) *uint64 {
		if p == nil {
			return nil
		}
		return &p.Value
	}
	quota := func(q *libvirtxml.DomainCPUTuneQuota) *int64 {
		if q == nil {
			return nil
		}
		return &q.Value
	}
	unsigned("cpu_shares", "shares", shares(old.Shares), shares(new.Shares))
	unsigned("vcpu_period", "period", period(old.Period), period(new.Period))
	signed("vcpu_quota", "quota", quota(old.Quota), quota(new.Quota))
	unsigned("global_period", "global_period", period(old.GlobalPeriod), period(new.GlobalPeriod))
	signed("global_quota", "global_quota", quota(old.GlobalQuota), quota(new.GlobalQuota))
	unsigned("emulator_period", "emulator_period", period(old.EmulatorPeriod), period(new.EmulatorPeriod))
	signed("emulator_quota", "emulator_quota", quota(old.EmulatorQuota), quota(new.EmulatorQuota))
	unsigned("iothread_period", "iothread_period", period(old.IOThreadPeriod), period(new.IOThreadPeriod))
	signed("iothread_quota", "iothread_quota", quota(old.IOThreadQuota), quota(new.IOThreadQuota))
	if params != nil {
		cs = append(cs, Change{Class: Live, Path: "cputune", Op: &Op{Kind: SetSchedulerParameters, Params: params}})
	}
	cs = append(cs, pins(old, new, unpinned)...)
	// Scheduler policies, cache and memory bandwidth allocation.
	rest := func(t *libvirtxml.DomainCPUTune) string {
		c := *t
		c.Shares, c.Period, c.Quota, c.GlobalPeriod, c.GlobalQuota = nil, nil, nil, nil, nil
		c.EmulatorPeriod, c.EmulatorQuota, c.IOThreadPeriod, c.IOThreadQuota = nil, nil, nil, nil
		c.VCPUPin, c.EmulatorPin, c.IOThreadPin = nil, nil, nil
		return marshalAs("cputune", &c)
	}
	if rest(old) != rest(new) {
		cs = append(cs, Change{Class: Restart, Path: "cputune",
			Reason: "libvirt sets scheduling policies and cache or memory bandwidth tuning when the guest starts"})
	}
	return cs
}

// pins are the changes of vCPU, emulator and I/O thread pinning, all
// live: libvirt moves the threads at once. libvirt has no call that takes
// a pin out of a running guest, so a pin taken out pins its thread where
// an unpinned one runs (unpinned: the vcpu cpuset, or "" for every host
// CPU); the running definition then shows that pin, which is no pending
// difference (apply's withoutRunState).
func pins(old, new *libvirtxml.DomainCPUTune, unpinned string) []Change {
	var cs []Change
	pin := func(path string, kind OpKind, index uint, from, to string) {
		switch {
		case from == to:
		case to == "":
			cs = append(cs, Change{Class: Live, Path: path, Op: &Op{Kind: kind, Index: index, CPUSet: unpinned}})
		default:
			cs = append(cs, Change{Class: Live, Path: path, Op: &Op{Kind: kind, Index: index, CPUSet: to}})
		}
	}
	vcpuPins := func(t *libvirtxml.DomainCPUTune) map[uint]string {
		m := map[uint]string{}
		for _, p := range t.VCPUPin {
			m[p.VCPU] = p.CPUSet
		}
		return m
	}
	from, to := vcpuPins(old), vcpuPins(new)
	for _, v := range unionKeys(from, to) {
		pin(fmt.Sprintf("cputune.vcpupin[%d]", v), PinVcpu, v, from[v], to[v])
	}
	emulator := func(t *libvirtxml.DomainCPUTune) string {
		if t.EmulatorPin == nil {
			return ""
		}
		return t.EmulatorPin.CPUSet
	}
	pin("cputune.emulatorpin", PinEmulator, 0, emulator(old), emulator(new))
	threadPins := func(t *libvirtxml.DomainCPUTune) map[uint]string {
		m := map[uint]string{}
		for _, p := range t.IOThreadPin {
			m[p.IOThread] = p.CPUSet
		}
		return m
	}
	from, to = threadPins(old), threadPins(new)
	for _, id := range unionKeys(from, to) {
		pin(fmt.Sprintf("cputune.iothreadpin[%d]", id), PinIOThread, id, from[id], to[id])
	}
	return cs
}

// unionKeys are the keys of two maps, in order.
func unionKeys(a, b map[uint]string) []uint {
	var keys []uint
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func osChanges(old, new *libvirtxml.DomainOS) []Change {
	boot := func(o *libvirtxml.DomainOS) (rest, boot string) {
		if o == nil {
			return "", ""
		}
		c := *o
		b := libvirtxml.DomainOS{BootDevices: c.BootDevices, BootMenu: c.BootMenu}
		c.BootDevices, c.BootMenu = nil, nil
		return marshalAs("os", &c), marshalAs("os", &b)
	}
	oRest, oBoot := boot(old)
	nRest, nBoot := boot(new)
	var cs []Change
	if oRest != nRest {
		cs = append(cs, Change{Class: Restart, Path: "os",
			Reason: "the machine type, firmware and kernel of a guest are fixed when it starts"})
	}
	if oBoot != nBoot {
		cs = append(cs, Change{Class: NextBoot, Path: "os.boot",
			Reason: "the boot order is read when the guest starts"})
	}
	return cs
}
