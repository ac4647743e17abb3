package apply

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/compiler"
)

// WaitAddress waits, after a domain starts, until each of its interfaces
// has an address (waitFor: {address: true}).
const WaitAddress Action = "wait-address"

// ReasonWaitFor: the entry says waitFor (Step.Timeout seconds).
const ReasonWaitFor ReasonCode = "wait-for"

// InterfaceAddresses are the addresses of one interface of a domain,
// keyed by its MAC (lower case).
type InterfaceAddresses struct {
	MAC       string
	Addresses []string
}

// DomainAddresses are the addresses apply waited for on one domain.
type DomainAddresses struct {
	Connection, Name string
	Interfaces       []InterfaceAddresses
}

// addressReader is what waiting for addresses needs of a host beyond
// Host.
type addressReader interface {
	// Addresses returns the addresses of a domain's interfaces by MAC
	// (lower case), from every source libvirt has: DHCP leases of its
	// networks, the guest agent, and the host's ARP table. Link-local
	// and loopback addresses are left out.
	Addresses(uuid string) (map[string][]string, error)
}

func readerOf(h Host) addressReader {
	if r, ok := h.(addressReader); ok {
		return r
	}
	if u, ok := h.(interface{ Unwrap() Host }); ok {
		return readerOf(u.Unwrap())
	}
	return nil
}

// planWait adds the wait to a domain that apply starts.
func planWait(c *planned) {
	w := c.wanted
	if w == nil || w.Kind != compiler.KindDomain || w.WaitFor == nil || !w.WaitFor.Address || !(c.has(Start) || c.has(Restart)) {
		return
	}
	c.Actions = append(c.Actions, Step{Action: WaitAddress, Timeout: w.WaitFor.Timeout, Reasons: []Reason{because(ReasonWaitFor)}})
}

// interfaceMACs are the MACs of a domain definition's interfaces, lower
// case, in order.
func interfaceMACs(domXML string) []string {
	var d libvirtxml.Domain
	if d.Unmarshal(domXML) != nil || d.Devices == nil {
		return nil
	}
	var out []string
	for _, i := range d.Devices.Interfaces {
		if i.MAC != nil && i.MAC.Address != "" {
			out = append(out, strings.ToLower(i.MAC.Address))
		}
	}
	return out
}

// waitAddresses waits, in parallel, for the addresses of the domains this
// apply started whose entries say waitFor, each for at most its timeout.
func (ex *executor) waitAddresses(changes []*planned) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, c := range changes {
		var step *Step
		for i := range c.Actions {
			if c.Actions[i].Action == WaitAddress {
				step = &c.Actions[i]
			}
		}
		if step == nil || ex.hasFailed(c) {
			continue
		}
		wg.Add(1)
		go func(c *planned, timeout time.Duration) {
			defer wg.Done()
			got, err := waitForAddresses(readerOf(ex.h), c.UUID, interfaceMACs(c.wanted.XML), timeout, time.Second)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ex.fail(c, "wait for an address", err)
				return
			}
			ex.note(c, Step{Action: WaitAddress, Addresses: got})
		}(c, time.Duration(step.Timeout)*time.Second)
	}
	wg.Wait()
}

// waitForAddresses polls r every interval until each of macs has an
// address, and returns them; it gives up when timeout runs out, never
// later, naming the interfaces still without one.
// now and sleep are the clock waitForAddresses reads; tests give it one
// of their own, so that what they check does not depend on the machine's
// load.
var (
	now   = time.Now
	sleep = time.Sleep
)

func waitForAddresses(r addressReader, uuid string, macs []string, timeout, interval time.Duration) ([]InterfaceAddresses, error) {
	if r == nil {
		return nil, fmt.Errorf("this connection cannot read addresses")
	}
	deadline := now().Add(timeout)
	var missing []string
	var lastErr error
	for {
		found, err := r.Addresses(uuid)
		lastErr = err
		missing = missing[:0]
		var out []InterfaceAddresses
		for _, m := range macs {
			if len(found[m]) == 0 {
				missing = append(missing, m)
			}
			out = append(out, InterfaceAddresses{MAC: m, Addresses: found[m]})
		}
		if err == nil && len(missing) == 0 {
			return out, nil
		}
		left := deadline.Sub(now())
		if left <= 0 {
			break
		}
		sleep(min(interval, left))
	}
	msg := fmt.Sprintf("no address within %s on interface %s", timeout, strings.Join(missing, ", "))
	if lastErr != nil {
		msg += " (" + libvirtMessage(lastErr) + ")"
	}
	return nil, fmt.Errorf("%s", msg)
}

// Addresses reads a domain's addresses from every source libvirt has.
func (h *libvirtHost) Addresses(uuid string) (map[string][]string, error) {
	d, err := h.conn.LookupDomainByUUIDString(uuid)
	if err != nil {
		return nil, err
	}
	defer d.Free()
	out := map[string][]string{}
	seen := map[string]bool{}
	var firstErr error
	for _, src := range []libvirt.DomainInterfaceAddressesSource{libvirt.DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE,
		libvirt.DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, libvirt.DOMAIN_INTERFACE_ADDRESSES_SRC_ARP} {
		ifaces, err := d.ListAllInterfaceAddresses(src)
		if err != nil {
			// No guest agent, or a driver without that source: the
			// others may still know.
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		firstErr = nil
		collectAddresses(out, seen, ifaces)
	}
	for _, a := range out {
		sort.Strings(a)
	}
	if len(out) == 0 && firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// addressesOf are the addresses an outcome reports.
func addressesOf(o Outcome) []DomainAddresses {
	var out []DomainAddresses
	for _, s := range o.Done {
		if s.Action == WaitAddress {
			out = append(out, DomainAddresses{Connection: o.Connection, Name: o.Name, Interfaces: s.Addresses})
		}
	}
	return out
}

// collectAddresses adds what libvirt reports to out, by lower-case MAC,
// without link-local, loopback or repeated addresses.
func collectAddresses(out map[string][]string, seen map[string]bool, ifaces []libvirt.DomainInterface) {
	for _, i := range ifaces {
		mac := strings.ToLower(i.Hwaddr)
		for _, a := range i.Addrs {
			ip := net.ParseIP(a.Addr)
			if ip == nil || ip.IsLinkLocalUnicast() || ip.IsLoopback() || seen[mac+" "+ip.String()] {
				continue
			}
			seen[mac+" "+ip.String()] = true
			out[mac] = append(out[mac], ip.String())
		}
	}
}
