package live

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"nixvirt.dev/nixvirt/internal/cpuset"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"
)

// RefusedError is a live change that libvirt did not make; the caller
// falls back to its restart policy and shows Reason.
type RefusedError struct {
	Change Change
	// Reason is libvirt's own message.
	Reason string
	Err    error
}

func (e *RefusedError) Error() string {
	kind := OpKind("")
	if e.Change.Op != nil {
		kind = e.Change.Op.Kind
	}
	return fmt.Sprintf("live change of %s (%s) refused by libvirt: %s", e.Change.Path, kind, e.Reason)
}

func (e *RefusedError) Unwrap() error { return e.Err }

func refused(c Change, err error) error {
	if err == nil {
		return nil
	}
	reason := err.Error()
	var lerr libvirt.Error
	if errors.As(err, &lerr) {
		reason = lerr.Message
	}
	return &RefusedError{Change: c, Reason: reason, Err: err}
}

// PendingError is a detach that libvirt accepted and the guest has not
// completed yet: the device is out of the persistent definition but the
// running guest still has it until its operating system releases it (PCI
// hot-unplug asks the guest) or it is started again.
type PendingError struct {
	Change Change
}

func (e *PendingError) Error() string {
	return fmt.Sprintf("%s is removed from the definition, but the running guest has not released it yet; it goes when the guest lets it go or restarts", e.Change.Path)
}

// detached checks that a detached device left the running guest: libvirt
// waits a few seconds for the guest and then returns success with the
// removal still under way.
func detached(dom *libvirt.Domain, c Change) error {
	doc, err := dom.GetXMLDesc(0)
	if err != nil {
		return fmt.Errorf("%s: reading the running definition after the detach: %w", c.Path, err)
	}
	var running libvirtxml.Domain
	if err := running.Unmarshal(doc); err != nil {
		return fmt.Errorf("%s: reading the running definition after the detach: %w", c.Path, err)
	}
	if stillHas(&running, c.Op.Device, c.Op.XML) {
		return &PendingError{Change: c}
	}
	return nil
}

func notLive(c Change) error {
	return fmt.Errorf("%s is a %s change, not a live one", c.Path, c.Class)
}

// ApplyDomain makes a live change to a running domain and to its
// persistent definition together.
func ApplyDomain(dom *libvirt.Domain, c Change) error {
	if c.Class != Live || c.Op == nil || c.Op.Kind == UpdateNetwork {
		return notLive(c)
	}
	const device = libvirt.DOMAIN_DEVICE_MODIFY_LIVE | libvirt.DOMAIN_DEVICE_MODIFY_CONFIG
	const both = libvirt.DOMAIN_AFFECT_LIVE | libvirt.DOMAIN_AFFECT_CONFIG
	op := c.Op
	var err error
	switch op.Kind {
	case AttachDevice:
		err = dom.AttachDeviceFlags(op.XML, device)
	case DetachDevice:
		if err = dom.DetachDeviceFlags(op.XML, device); err == nil {
			return detached(dom, c)
		}
	case UpdateDevice:
		err = dom.UpdateDeviceFlags(op.XML, device)
	case SetMemory:
		err = dom.SetMemoryFlags(op.Count, libvirt.DOMAIN_MEM_LIVE|libvirt.DOMAIN_MEM_CONFIG)
	case SetVcpus:
		err = dom.SetVcpusFlags(uint(op.Count), libvirt.DOMAIN_VCPU_LIVE|libvirt.DOMAIN_VCPU_CONFIG)
	case SetBlockIoTune:
		var p libvirt.DomainBlockIoTuneParameters
		if err = setParams(op.Params, blockIoTuneFields(&p)); err == nil {
			err = dom.SetBlockIoTune(op.Device, &p, both)
		}
	case SetLifecycleAction:
		event, ok1 := lifecycleEvents[op.Event]
		action, ok2 := lifecycleActions[op.Text]
		if !ok1 || !ok2 {
			return fmt.Errorf("%s: unknown lifecycle action %q on %q", c.Path, op.Text, op.Event)
		}
		err = dom.SetLifecycleAction(event, action, uint32(both))
	case SetTitle:
		err = dom.SetMetadata(libvirt.DOMAIN_METADATA_TITLE, op.Text, "", "", both)
	case SetDescription:
		err = dom.SetMetadata(libvirt.DOMAIN_METADATA_DESCRIPTION, op.Text, "", "", both)
	case SetMemoryParameters:
		var p libvirt.DomainMemoryParameters
		if err = setParams(op.Params, map[string]paramField{
			"hard_limit":      paramField{&p.HardLimitSet, &p.HardLimit},
			"soft_limit":      paramField{&p.SoftLimitSet, &p.SoftLimit},
			"swap_hard_limit": paramField{&p.SwapHardLimitSet, &p.SwapHardLimit},
		}); err == nil {
			err = dom.SetMemoryParameters(&p, both)
		}
	case SetBlkioParameters:
		var p libvirt.DomainBlkioParameters
		if err = setParams(op.Params, map[string]paramField{
			"weight":                 paramField{&p.WeightSet, &p.Weight},
			"device_weight":          paramField{&p.DeviceWeightSet, &p.DeviceWeight},
			"device_read_iops_sec":   paramField{&p.DeviceReadIopsSet, &p.DeviceReadIops},
			"device_write_iops_sec":  paramField{&p.DeviceWriteIopsSet, &p.DeviceWriteIops},
			"device_read_bytes_sec":  paramField{&p.DeviceReadBpsSet, &p.DeviceReadBps},
			"device_write_bytes_sec": paramField{&p.DeviceWriteBpsSet, &p.DeviceWriteBps},
		}); err == nil {
			err = dom.SetBlkioParameters(&p, both)
		}
	case SetSchedulerParameters:
		var p libvirt.DomainSchedulerParameters
		if err = setParams(op.Params, map[string]paramField{
			"cpu_shares":      paramField{&p.CpuSharesSet, &p.CpuShares},
			"vcpu_period":     paramField{&p.VcpuPeriodSet, &p.VcpuPeriod},
			"vcpu_quota":      paramField{&p.VcpuQuotaSet, &p.VcpuQuota},
			"global_period":   paramField{&p.GlobalPeriodSet, &p.GlobalPeriod},
			"global_quota":    paramField{&p.GlobalQuotaSet, &p.GlobalQuota},
			"emulator_period": paramField{&p.EmulatorPeriodSet, &p.EmulatorPeriod},
			"emulator_quota":  paramField{&p.EmulatorQuotaSet, &p.EmulatorQuota},
			"iothread_period": paramField{&p.IothreadPeriodSet, &p.IothreadPeriod},
			"iothread_quota":  paramField{&p.IothreadQuotaSet, &p.IothreadQuota},
		}); err == nil {
			err = dom.SetSchedulerParametersFlags(&p, both)
		}
	case PinVcpu, PinEmulator, PinIOThread:
		var cpus []bool
		var perr error
		if op.CPUSet == "" {
			cpus, perr = hostCPUs(dom)
		} else {
			cpus, perr = cpuMap(op.CPUSet)
		}
		if perr != nil {
			return fmt.Errorf("%s: %w", c.Path, perr)
		}
		switch op.Kind {
		case PinVcpu:
			err = dom.PinVcpuFlags(op.Index, cpus, both)
		case PinEmulator:
			err = dom.PinEmulator(cpus, both)
		default:
			err = dom.PinIOThread(op.Index, cpus, both)
		}
	default:
		return fmt.Errorf("%s: unknown live operation %q", c.Path, op.Kind)
	}
	return refused(c, err)
}

// hostCPUs is the map of the host's online CPUs, where an unpinned
// thread runs.
func hostCPUs(dom *libvirt.Domain) ([]bool, error) {
	conn, err := dom.DomainGetConnect()
	if err != nil {
		return nil, err
	}
	// Only the reference DomainGetConnect took is released: the
	// connection stays open for its owner, and nothing is lost if this
	// fails.
	defer func() { _, _ = conn.Close() }()
	online, _, err := conn.GetCPUMap(0)
	if err != nil {
		return nil, fmt.Errorf("reading the host's CPUs: %w", err)
	}
	cpus := make([]bool, len(online))
	for n, on := range online {
		cpus[n] = on
	}
	return cpus, nil
}

// CPUSet writes a map of host CPUs in libvirt's cpuset syntax
// (cpuset.Format).
func CPUSet(cpus map[int]bool) string { return cpuset.Format(cpus) }

// cpuMap reads a cpuset in libvirt's syntax (comma-separated CPUs and
// ranges, "^N" taking one out: "0-3,^2,6") into the map of host CPUs the
// pin calls take, CPU n at index n.
func cpuMap(cpuset string) ([]bool, error) {
	in := map[int]bool{}
	highest := -1
	for _, item := range strings.Split(cpuset, ",") {
		item = strings.TrimSpace(item)
		exclude := strings.HasPrefix(item, "^")
		item = strings.TrimPrefix(item, "^")
		first, last, isRange := strings.Cut(item, "-")
		lo, err1 := strconv.Atoi(first)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(last)
		}
		if err1 != nil || err2 != nil || lo < 0 || hi < lo || (exclude && isRange) {
			return nil, fmt.Errorf("cpuset %q: %q is not a CPU, a range of CPUs or ^CPU", cpuset, item)
		}
		for n := lo; n <= hi; n++ {
			in[n] = !exclude
			if !exclude {
				highest = max(highest, n)
			}
		}
	}
	cpus := make([]bool, highest+1)
	any := false
	for n, on := range in {
		if on {
			cpus[n] = true
			any = true
		}
	}
	if !any {
		return nil, fmt.Errorf("cpuset %q names no CPU", cpuset)
	}
	return cpus, nil
}

// blockIoTuneFields are the fields of libvirt's block I/O tuning
// parameters by their parameter names, which are also the element names
// of a disk's iotune: the two libraries name the fields alike.
func blockIoTuneFields(p *libvirt.DomainBlockIoTuneParameters) map[string]paramField {
	fields := map[string]paramField{}
	v := reflect.ValueOf(p).Elem()
	xt := reflect.TypeOf(libvirtxml.DomainDiskIOTune{})
	for i := 0; i < xt.NumField(); i++ {
		value, set := v.FieldByName(xt.Field(i).Name), v.FieldByName(xt.Field(i).Name+"Set")
		if value.IsValid() && set.IsValid() {
			fields[fieldPath(xt.Field(i))] = paramField{set.Addr().Interface().(*bool), value.Addr().Interface()}
		}
	}
	return fields
}

var lifecycleEvents = map[string]libvirt.DomainLifecycle{
	"poweroff": libvirt.DOMAIN_LIFECYCLE_POWEROFF,
	"reboot":   libvirt.DOMAIN_LIFECYCLE_REBOOT,
	"crash":    libvirt.DOMAIN_LIFECYCLE_CRASH,
}

var lifecycleActions = map[string]libvirt.DomainLifecycleAction{
	"destroy":          libvirt.DOMAIN_LIFECYCLE_ACTION_DESTROY,
	"restart":          libvirt.DOMAIN_LIFECYCLE_ACTION_RESTART,
	"rename-restart":   libvirt.DOMAIN_LIFECYCLE_ACTION_RESTART_RENAME,
	"preserve":         libvirt.DOMAIN_LIFECYCLE_ACTION_PRESERVE,
	"coredump-destroy": libvirt.DOMAIN_LIFECYCLE_ACTION_COREDUMP_DESTROY,
	"coredump-restart": libvirt.DOMAIN_LIFECYCLE_ACTION_COREDUMP_RESTART,
}

// paramField is where a typed parameter goes in one of libvirt's
// parameter structs: its "set" flag and its value.
type paramField struct {
	set   *bool
	value any
}

func setParams(params []Param, fields map[string]paramField) error {
	for _, p := range params {
		f, ok := fields[p.Name]
		if !ok {
			return fmt.Errorf("unknown parameter %q", p.Name)
		}
		switch v := f.value.(type) {
		case *uint64:
			if p.Uint == nil {
				return fmt.Errorf("parameter %s needs an unsigned value", p.Name)
			}
			*v = *p.Uint
		case *uint:
			if p.Uint == nil {
				return fmt.Errorf("parameter %s needs an unsigned value", p.Name)
			}
			*v = uint(*p.Uint)
		case *int64:
			if p.Int == nil {
				return fmt.Errorf("parameter %s needs a signed value", p.Name)
			}
			*v = *p.Int
		case *string:
			if p.Str == nil {
				return fmt.Errorf("parameter %s needs a string", p.Name)
			}
			*v = *p.Str
		}
		*f.set = true
	}
	return nil
}

var networkCommands = map[NetworkCommand]libvirt.NetworkUpdateCommand{
	NetworkAdd:    libvirt.NETWORK_UPDATE_COMMAND_ADD_LAST,
	NetworkDelete: libvirt.NETWORK_UPDATE_COMMAND_DELETE,
	NetworkModify: libvirt.NETWORK_UPDATE_COMMAND_MODIFY,
}

var networkSections = map[NetworkSection]libvirt.NetworkUpdateSection{
	SectionDHCPHost:         libvirt.NETWORK_SECTION_IP_DHCP_HOST,
	SectionDHCPRange:        libvirt.NETWORK_SECTION_IP_DHCP_RANGE,
	SectionDNSHost:          libvirt.NETWORK_SECTION_DNS_HOST,
	SectionDNSTXT:           libvirt.NETWORK_SECTION_DNS_TXT,
	SectionDNSSRV:           libvirt.NETWORK_SECTION_DNS_SRV,
	SectionPortGroup:        libvirt.NETWORK_SECTION_PORTGROUP,
	SectionForwardInterface: libvirt.NETWORK_SECTION_FORWARD_INTERFACE,
}

// ApplyNetwork makes a live change to a running network and to its
// persistent definition together.
func ApplyNetwork(net *libvirt.Network, c Change) error {
	if c.Class != Live || c.Op == nil || c.Op.Kind != UpdateNetwork || c.Op.Network == nil {
		return notLive(c)
	}
	u := c.Op.Network
	cmd, ok1 := networkCommands[u.Command]
	section, ok2 := networkSections[u.Section]
	if !ok1 || !ok2 {
		return fmt.Errorf("%s: unknown network update %q of %q", c.Path, u.Command, u.Section)
	}
	return refused(c, net.Update(cmd, section, u.ParentIndex, c.Op.XML,
		libvirt.NETWORK_UPDATE_AFFECT_LIVE|libvirt.NETWORK_UPDATE_AFFECT_CONFIG))
}
