// Package rpcread reads a local libvirt host over libvirt's RPC protocol,
// in Go, without libvirt's C library: the reads of a memo (package
// noopmemo), which the front repeats to tell that an apply would change
// nothing. Loading libvirt's library and the 57 it links costs a process
// about 27 ms before main; a no-op apply needs only a few list calls.
//
// It answers only what package apply's libvirt host answers alike, call
// for call, and it serves only URIs whose socket it can tell: qemu:///system
// and qemu:///session when the daemon's socket is there (libvirt's client
// would start a session daemon; this does not). Anything else is an error,
// and the caller does what it did before: it runs the whole build.
package rpcread

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"

	"nixvirt.dev/nixvirt/internal/cpuset"
	"nixvirt.dev/nixvirt/internal/noopmemo"
)

// Conn is a connection to one host.
type Conn struct {
	l *golibvirt.Libvirt
}

// ErrUnsupported: the URI is not one this package serves.
var ErrUnsupported = errors.New("not a URI read over RPC")

// socketOf is the daemon socket of a URI, as libvirt's client finds it
// for a daemon that runs: the monolithic libvirtd's, else the QEMU
// driver's own daemon (virtqemud).
func socketOf(uri string) (string, error) {
	var dir string
	switch uri {
	case "qemu:///system":
		dir = "/var/run/libvirt"
	case "qemu:///session":
		rt := os.Getenv("XDG_RUNTIME_DIR")
		if rt == "" {
			return "", ErrUnsupported
		}
		dir = filepath.Join(rt, "libvirt")
	default:
		return "", ErrUnsupported
	}
	for _, name := range []string{"libvirt-sock", "virtqemud-sock"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return filepath.Join(dir, name), nil
		}
	}
	return "", ErrUnsupported
}

// Supported reports whether uri is one this package reads.
func Supported(uri string) bool {
	_, err := socketOf(uri)
	return err == nil
}

// Dial connects to uri.
func Dial(uri string) (*Conn, error) {
	sock, err := socketOf(uri)
	if err != nil {
		return nil, err
	}
	l := golibvirt.NewWithDialer(unixDialer(sock))
	if err := l.ConnectToURI(golibvirt.ConnectURI(uri)); err != nil {
		return nil, err
	}
	return &Conn{l: l}, nil
}

// unixDialer dials a unix socket (go-libvirt's own dialers would link an
// SSH client, whose packages every start of the front would initialise).
type unixDialer string

func (d unixDialer) Dial() (net.Conn, error) {
	return net.DialTimeout("unix", string(d), 5*time.Second)
}

// Close closes the connection.
func (c *Conn) Close() error { return c.l.Disconnect() }

// Libvirt's flags and error codes, as its headers number them.
const (
	listDomainsAutostart = 1 << 10
	listNetworksActive   = 1 << 1
	listNetworksAuto     = 1 << 4
	listPoolsActive      = 1 << 1
	listPoolsAutostart   = 1 << 4
	domainXMLInactive    = 1 << 1
	networkXMLInactive   = 1 << 0
	storageXMLInactive   = 1 << 0
	errNoSupport         = 3
	errInvalidArg        = 8
)

// uuidString is a UUID as libvirt prints it.
func uuidString(u golibvirt.UUID) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// parseUUID reads a UUID in any of the forms libvirt takes: 32 hex
// digits, with or without dashes.
func parseUUID(s string) (golibvirt.UUID, error) {
	var u golibvirt.UUID
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != len(u) {
		return u, fmt.Errorf("rpcread: not a UUID: %q", s)
	}
	copy(u[:], b)
	return u, nil
}

// handle is one listed object and how to read its definitions.
type handle struct {
	uuid, name string
	active     bool
	desc       func(flags uint32) (string, error)
	inactive   uint32
}

// inactiveXML reads the persistent definition, and the only one a driver
// has where it does not know the flag, as package apply does.
func (h handle) inactiveXML() (string, error) {
	x, err := h.desc(h.inactive)
	var le golibvirt.Error
	if errors.As(err, &le) && (le.Code == errInvalidArg || le.Code == errNoSupport) {
		return h.desc(0)
	}
	return x, err
}

// listAll is one list call of a kind with flags.
func (c *Conn) listAll(kind string, flags uint32) ([]handle, error) {
	var out []handle
	switch kind {
	case "domain":
		doms, _, err := c.l.ConnectListAllDomains(1, golibvirt.ConnectListAllDomainsFlags(flags))
		if err != nil {
			return nil, err
		}
		for _, d := range doms {
			out = append(out, handle{uuid: uuidString(d.UUID), name: d.Name, active: d.ID != -1, inactive: domainXMLInactive,
				desc: func(f uint32) (string, error) { return c.l.DomainGetXMLDesc(d, golibvirt.DomainXMLFlags(f)) }})
		}
	case "network":
		nets, _, err := c.l.ConnectListAllNetworks(1, golibvirt.ConnectListAllNetworksFlags(flags))
		if err != nil {
			return nil, err
		}
		for _, n := range nets {
			out = append(out, handle{uuid: uuidString(n.UUID), name: n.Name, inactive: networkXMLInactive,
				desc: func(f uint32) (string, error) { return c.l.NetworkGetXMLDesc(n, f) }})
		}
	case "pool":
		pools, _, err := c.l.ConnectListAllStoragePools(1, golibvirt.ConnectListAllStoragePoolsFlags(flags))
		if err != nil {
			return nil, err
		}
		for _, p := range pools {
			out = append(out, handle{uuid: uuidString(p.UUID), name: p.Name, inactive: storageXMLInactive,
				desc: func(f uint32) (string, error) {
					return c.l.StoragePoolGetXMLDesc(p, golibvirt.StorageXMLFlags(f))
				}})
		}
	default:
		return nil, fmt.Errorf("rpcread: no list of %q", kind)
	}
	return out, nil
}

// uuids is the set of UUIDs of a filtered list call.
func (c *Conn) uuids(kind string, flags uint32) (map[string]bool, error) {
	hs, err := c.listAll(kind, flags)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, h := range hs {
		set[h.uuid] = true
	}
	return set, nil
}

// readers is how many definitions List reads at once, as package apply:
// libvirtd serves five calls of one client at a time by default.
const readers = 4

// List is every object of a kind as package apply's List gives it: its
// UUID, name, persistent definition, and whether it runs and starts with
// the host. The running definitions are separate calls (Running).
func (c *Conn) List(kind string) ([]noopmemo.Object, error) {
	if kind == "secret" {
		return c.listSecrets()
	}
	all, err := c.listAll(kind, 0)
	if err != nil {
		return nil, err
	}
	var active, autostart map[string]bool
	var activeErr, autostartErr error
	var lists sync.WaitGroup
	lists.Add(1)
	go func() {
		defer lists.Done()
		switch kind {
		case "domain":
			autostart, autostartErr = c.uuids(kind, listDomainsAutostart)
		case "network":
			if autostart, autostartErr = c.uuids(kind, listNetworksAuto); autostartErr == nil {
				active, activeErr = c.uuids(kind, listNetworksActive)
			}
		case "pool":
			if autostart, autostartErr = c.uuids(kind, listPoolsAutostart); autostartErr == nil {
				active, activeErr = c.uuids(kind, listPoolsActive)
			}
		}
	}()
	objs := make([]noopmemo.Object, len(all))
	errs := make([]error, len(all))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(readers, len(all)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				objs[i].XML, errs[i] = all[i].inactiveXML()
			}
		}()
	}
	for i := range all {
		next <- i
	}
	close(next)
	wg.Wait()
	lists.Wait()
	if err := errors.Join(autostartErr, activeErr); err != nil {
		return nil, err
	}
	for i, h := range all {
		if errs[i] != nil {
			return nil, errs[i]
		}
		objs[i].UUID, objs[i].Name, objs[i].Autostart = h.uuid, h.name, autostart[h.uuid]
		objs[i].Active = h.active
		if active != nil {
			objs[i].Active = active[h.uuid]
		}
	}
	return objs, nil
}

// listSecrets lists secrets as package apply does: named by their UUID,
// none where the driver has no secrets.
func (c *Conn) listSecrets() ([]noopmemo.Object, error) {
	secs, _, err := c.l.ConnectListAllSecrets(1, 0)
	var le golibvirt.Error
	if errors.As(err, &le) && le.Code == errNoSupport {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []noopmemo.Object
	for _, s := range secs {
		x, err := c.l.SecretGetXMLDesc(s, 0)
		if err != nil {
			return nil, err
		}
		u := uuidString(s.UUID)
		out = append(out, noopmemo.Object{UUID: u, Name: u, XML: x})
	}
	return out, nil
}

// lookup finds a domain, network or pool by its UUID.
func (c *Conn) lookup(kind, uuid string) (handle, error) {
	u, err := parseUUID(uuid)
	if err != nil {
		return handle{}, err
	}
	switch kind {
	case "domain":
		d, err := c.l.DomainLookupByUUID(u)
		return handle{inactive: domainXMLInactive, desc: func(f uint32) (string, error) {
			return c.l.DomainGetXMLDesc(d, golibvirt.DomainXMLFlags(f))
		}}, err
	case "network":
		n, err := c.l.NetworkLookupByUUID(u)
		return handle{inactive: networkXMLInactive, desc: func(f uint32) (string, error) { return c.l.NetworkGetXMLDesc(n, f) }}, err
	case "pool":
		p, err := c.l.StoragePoolLookupByUUID(u)
		return handle{inactive: storageXMLInactive, desc: func(f uint32) (string, error) {
			return c.l.StoragePoolGetXMLDesc(p, golibvirt.StorageXMLFlags(f))
		}}, err
	}
	return handle{}, fmt.Errorf("rpcread: no lookup of %q", kind)
}

// Running is the running definition of a domain or network.
func (c *Conn) Running(kind, uuid string) (string, error) {
	h, err := c.lookup(kind, uuid)
	if err != nil {
		return "", err
	}
	return h.desc(0)
}

// Definition is the persistent definition of a domain, network or pool.
func (c *Conn) Definition(kind, uuid string) (string, error) {
	h, err := c.lookup(kind, uuid)
	if err != nil {
		return "", err
	}
	return h.inactiveXML()
}

// Volumes are a pool's volumes as package apply's Volumes gives them:
// none for an inactive pool.
func (c *Conn) Volumes(pool string) ([]noopmemo.Volume, error) {
	p, err := c.l.StoragePoolLookupByName(pool)
	if err != nil {
		return nil, err
	}
	if active, err := c.l.StoragePoolIsActive(p); err != nil || active == 0 {
		return nil, nil
	}
	vols, _, err := c.l.StoragePoolListAllVolumes(p, 1, 0)
	if err != nil {
		return nil, err
	}
	var out []noopmemo.Volume
	for _, v := range vols {
		x, err := c.l.StorageVolGetXMLDesc(v, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, noopmemo.Volume{Name: v.Name, XML: x})
	}
	return out, nil
}

// HostCPUs are the host's online CPUs in libvirt's cpuset syntax, as
// package apply's HostCPUs gives them.
func (c *Conn) HostCPUs() (string, error) {
	cpumap, _, n, err := c.l.NodeGetCPUMap(1, 1, 0)
	if err != nil {
		return "", err
	}
	online := map[int]bool{}
	for i := 0; i < int(n) && i/8 < len(cpumap); i++ {
		online[i] = cpumap[i/8]&(1<<(i%8)) != 0
	}
	return cpuset.Format(online), nil
}

// Libvirt's domain state and the reason of a running one.
const (
	domainRunning         = 1
	domainRunningRestored = 3
)

// Resumed reports whether a domain runs restored from a state file, as
// package apply's Resumed does.
func (c *Conn) Resumed(uuid string) (bool, error) {
	d, err := c.domain(uuid)
	if err != nil {
		return false, err
	}
	state, reason, err := c.l.DomainGetState(d, 0)
	return state == domainRunning && reason == domainRunningRestored, err
}

// domain looks a domain up by its UUID.
func (c *Conn) domain(uuid string) (golibvirt.Domain, error) {
	u, err := parseUUID(uuid)
	if err != nil {
		return golibvirt.Domain{}, err
	}
	return c.l.DomainLookupByUUID(u)
}

// HasManagedSave reports whether a domain has a managed save image.
func (c *Conn) HasManagedSave(uuid string) (bool, error) {
	d, err := c.domain(uuid)
	if err != nil {
		return false, err
	}
	has, err := c.l.DomainHasManagedSaveImage(d, 0)
	return has == 1, err
}
