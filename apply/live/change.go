// Package live decides which differences between two definitions of a
// running libvirt domain or network libvirt can apply without a restart,
// and applies them.
//
// [Domain] and [Network] are pure: given the old and the new definition
// they return the difference as a list of [Change]s, each classified
// [Live] (applied to the running object and to its persistent definition
// together, by the libvirt call in its [Op]), [NextBoot] (written to the
// definition only; the object picks it up when it next starts) or
// [Restart] (with the reason). Devices are matched by what identifies
// them to libvirt (a disk's target, an interface's MAC, a controller's
// type and index, else alias, address or content), never by position.
// [ApplyDomain] and [ApplyNetwork] carry out a live change; an error says
// which change libvirt refused and why, so that the caller can fall back
// to its restart policy.
//
// Both definitions are in the user's terms: what libvirt adds to a
// definition by itself (default controllers and inputs, the memory
// balloon) must be taken out first, as for the plan's diff; the
// addresses and aliases libvirt assigns are ignored here.
//
// What is live follows libvirt's QEMU driver (9.0 and later): it is a
// decision made from the two definitions, and libvirt has the last word.
// docs/live-changes.md has the whole table.
package live

import (
	"bytes"
	"encoding/xml"
	"fmt"
)

// Class is how a change reaches a running object.
type Class int

const (
	// Live changes are applied to the running object and to its
	// persistent definition together.
	Live Class = iota + 1
	// NextBoot changes are written to the definition only; the running
	// object does not see them until it is started again.
	NextBoot
	// Restart changes need the object stopped and started again.
	Restart
)

func (c Class) String() string {
	switch c {
	case Live:
		return "live"
	case NextBoot:
		return "next-boot"
	case Restart:
		return "restart"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// MarshalText writes a class by its name, for JSON plans.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Change is one difference between two definitions.
type Change struct {
	Class Class `json:"class"`
	// Path names what changed, in the definition's own terms:
	// "currentMemory", "devices.disk[vdb]", "ip[0].dhcp.host[52:54:00:00:00:01]".
	Path string `json:"path"`
	// Reason says, for display, why a change is not live.
	Reason string `json:"reason,omitempty"`
	// Op is the libvirt call that applies a live change; nil otherwise.
	Op *Op `json:"op,omitempty"`
}

func (c Change) String() string {
	s := c.Class.String() + " " + c.Path
	if c.Op != nil {
		s += " (" + string(c.Op.Kind) + ")"
	}
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	return s
}

// OpKind is a libvirt call.
type OpKind string

const (
	AttachDevice           OpKind = "attach-device"            // virDomainAttachDeviceFlags
	DetachDevice           OpKind = "detach-device"            // virDomainDetachDeviceFlags
	UpdateDevice           OpKind = "update-device"            // virDomainUpdateDeviceFlags
	SetMemory              OpKind = "set-memory"               // virDomainSetMemoryFlags
	SetVcpus               OpKind = "set-vcpus"                // virDomainSetVcpusFlags
	SetMemoryParameters    OpKind = "set-memory-parameters"    // virDomainSetMemoryParameters
	SetBlkioParameters     OpKind = "set-blkio-parameters"     // virDomainSetBlkioParameters
	SetSchedulerParameters OpKind = "set-scheduler-parameters" // virDomainSetSchedulerParametersFlags
	SetBlockIoTune         OpKind = "set-block-io-tune"        // virDomainSetBlockIoTune
	PinVcpu                OpKind = "pin-vcpu"                 // virDomainPinVcpuFlags
	PinEmulator            OpKind = "pin-emulator"             // virDomainPinEmulator
	PinIOThread            OpKind = "pin-iothread"             // virDomainPinIOThread
	SetLifecycleAction     OpKind = "set-lifecycle-action"     // virDomainSetLifecycleAction
	SetTitle               OpKind = "set-title"                // virDomainSetMetadata(TITLE)
	SetDescription         OpKind = "set-description"          // virDomainSetMetadata(DESCRIPTION)
	UpdateNetwork          OpKind = "update-network"           // virNetworkUpdate
)

// Op is one libvirt call with its arguments; which fields are used
// depends on Kind.
type Op struct {
	Kind OpKind `json:"kind"`
	// XML is the device for the device calls and the element for a
	// network update.
	XML string `json:"xml,omitempty"`
	// Device is the element name of the device of the device calls
	// ("disk", "interface"), and the disk's target for SetBlockIoTune.
	Device string `json:"device,omitempty"`
	// Count is the memory in KiB for SetMemory and the vCPU count for
	// SetVcpus.
	Count uint64 `json:"count,omitempty"`
	// Text is the title or description, or the lifecycle action
	// (destroy, restart, preserve…) for SetLifecycleAction.
	Text string `json:"text,omitempty"`
	// Event is the lifecycle event of SetLifecycleAction: poweroff,
	// reboot or crash.
	Event string `json:"event,omitempty"`
	// Index is the vCPU of PinVcpu and the I/O thread id of PinIOThread;
	// CPUSet the host CPUs of the pin calls, in libvirt's cpuset syntax
	// ("0-3,^2,6"), "" for every host CPU (a pin taken out).
	Index  uint   `json:"index,omitempty"`
	CPUSet string `json:"cpuset,omitempty"`
	// Params are the typed parameters of the Set*Parameters calls, by
	// libvirt's parameter names (hard_limit, device_weight, cpu_shares…).
	Params []Param `json:"params,omitempty"`
	// Network holds the other arguments of a network update.
	Network *NetworkUpdate `json:"network,omitempty"`
}

// NetworkUpdate is what virNetworkUpdate takes besides the XML.
type NetworkUpdate struct {
	Command NetworkCommand `json:"command"`
	Section NetworkSection `json:"section"`
	// ParentIndex is the index of the <ip> element for the DHCP
	// sections and -1 otherwise.
	ParentIndex int `json:"parentIndex"`
}

// Param is one typed parameter; exactly one of its values is set.
type Param struct {
	Name string  `json:"name"`
	Uint *uint64 `json:"uint,omitempty"`
	Int  *int64  `json:"int,omitempty"`
	Str  *string `json:"string,omitempty"`
}

func (p Param) String() string {
	switch {
	case p.Uint != nil:
		return fmt.Sprintf("%s=%d", p.Name, *p.Uint)
	case p.Int != nil:
		return fmt.Sprintf("%s=%d", p.Name, *p.Int)
	case p.Str != nil:
		return fmt.Sprintf("%s=%q", p.Name, *p.Str)
	}
	return p.Name
}

// marshalAs writes v (a pointer to a libvirtxml value) as the XML element
// name; "" when libvirtxml cannot write it.
func marshalAs(name string, v any) string {
	var b bytes.Buffer
	e := xml.NewEncoder(&b)
	e.Indent("", "  ")
	if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: name}}); err != nil {
		return ""
	}
	if err := e.Flush(); err != nil {
		return ""
	}
	return b.String()
}
