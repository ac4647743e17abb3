// Package apply is nixvirt's last stage: it reads the live state of
// libvirt hosts, plans what makes them match a configuration, renders the
// plan, and executes it. Planning, rendering and executing are separate:
// a Plan is plain data.
//
// What nixvirt owns is marked in the object where libvirt keeps metadata
// (domains, networks), and recorded in a state directory where it keeps
// none (pools, secrets; state.go). Those records are also claimed in a
// host-wide owners directory that every state directory reads
// (claims.go), so that one configuration never takes over or prunes the
// pools and secrets another state directory records.
package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"libvirt.org/go/libvirt"

	"nixvirt.dev/nixvirt/compiler"
)

// Live is one object as the host has it.
type Live struct {
	UUID      string
	Name      string
	XML       string // XMLDesc(INACTIVE)
	Active    bool
	Autostart bool
	// Running is the running definition, XMLDesc(0), when the listing
	// read it (ListWithRunning); "" when it did not.
	Running string
}

// LiveVolume is one volume of a pool.
type LiveVolume struct {
	Name string
	XML  string
}

// Host is what apply needs of a libvirt connection. Every method that
// changes the host counts as a write (Writes), so tests and benchmarks can
// check that an unchanged configuration makes none.
type Host interface {
	URI() string
	List(k compiler.Kind) ([]Live, error)
	// Definition is one object's persistent definition, XMLDesc(INACTIVE).
	Definition(k compiler.Kind, uuid string) (string, error)
	Volumes(pool string) ([]LiveVolume, error)
	Define(k compiler.Kind, xml string) error
	// Undefine removes a definition. A domain keeps its NVRAM and TPM
	// state unless removeNvram or removeTPM; libvirt refuses to undefine
	// one with a managed save image (which it would delete).
	Undefine(k compiler.Kind, uuid string, removeNvram, removeTPM bool) error
	// HasManagedSave reports whether a domain has a managed save image.
	HasManagedSave(uuid string) (bool, error)
	Start(k compiler.Kind, uuid string) error
	// Stop stops an object; a domain is asked to shut down and is forced
	// off when it has not within timeout. When ctx is done first, Stop
	// returns ctx's error and leaves the domain as it is: shutting down,
	// not forced off.
	Stop(ctx context.Context, k compiler.Kind, uuid string, timeout time.Duration) error
	SetAutostart(k compiler.Kind, uuid string, on bool) error
	CreateVolume(pool, xml string) error
	DeleteVolume(pool, name string) error
	Writes() int64
	Close() error
}

// Connect opens a libvirt connection.
func Connect(uri string) (Host, error) {
	c, err := libvirt.NewConnect(uri)
	if err != nil {
		return nil, connectError(uri, libvirtMessage(err))
	}
	return &libvirtHost{uri: uri, conn: c}, nil
}

type libvirtHost struct {
	uri    string
	conn   *libvirt.Connect
	writes atomic.Int64
	// cpus are the host's online CPUs (HostCPUs), asked once.
	cpus struct {
		once sync.Once
		set  string
		err  error
	}
}

func (h *libvirtHost) URI() string   { return h.uri }
func (h *libvirtHost) Writes() int64 { return h.writes.Load() }
func (h *libvirtHost) Close() error {
	_, err := h.conn.Close()
	return err
}

// connectError words a failure to connect as one sentence that names the
// URI, with libvirt's message (itself often two joined, "Failed to connect
// socket to '/x': No such file or directory") quoted as its own. Over ssh
// libvirt's message is ssh's complaint wrapped in its own, ending with
// the "Connection reset by peer" that follows it: ssh's part is what the
// user can act on.
func connectError(uri, msg string) error {
	if _, after, ok := strings.Cut(msg, "ssh: "); ok && strings.Contains(uri, "+ssh") {
		after = strings.TrimSuffix(after, ": Connection reset by peer")
		return fmt.Errorf("cannot connect to %s: ssh failed (%q); check the host name, that it is reachable, and that ssh to it works without a password prompt", uri, after)
	}
	return fmt.Errorf("cannot connect to %s: libvirt says %q; check the URI, that libvirtd runs there, and that this user may use it", uri, strings.TrimSuffix(msg, "."))
}

// libvirtMessage is libvirt's own message, not virError(Code=…).
func libvirtMessage(err error) string {
	var le libvirt.Error
	if errors.As(err, &le) {
		return le.Message
	}
	return err.Error()
}

// inactiveXML asks for the persistent definition, and for the only one a
// driver has where it does not know the flag (the test driver's networks).
func inactiveXML(desc func(flags uint32) (string, error), flag uint32) func() (string, error) {
	return func() (string, error) {
		x, err := desc(flag)
		var le libvirt.Error
		if errors.As(err, &le) && (le.Code == libvirt.ERR_INVALID_ARG || le.Code == libvirt.ERR_NO_SUPPORT) {
			return desc(0)
		}
		return x, err
	}
}

// listed is one object of a list call, with what List reads of it: its
// UUID and name (which the list call already brought), its persistent
// definition (one call), its running one (one call, for a running object
// only), and how to release it. active is nil where the handle cannot
// tell whether the object runs (networks and pools: a list call of the
// active ones does).
type listed struct {
	uuid, name, xml func() (string, error)
	running         func() (string, error)
	active          func() bool
	free            func() error
}

// readers is how many definitions List reads at once: libvirtd serves
// five calls of one client at a time by default (max_client_requests),
// and a no-op apply is mostly waiting for these answers; the fifth is
// the list call of the autostarted objects, made meanwhile.
const readers = 4

// List reads every object of a kind: one list call for all of them, one
// for the autostarted ones and, for networks and pools, one for the
// active ones (a domain's handle says whether it runs: it has an id),
// and one definition call per object, several at a time, rather than
// three calls per object one after another: a no-op apply of a hundred
// domains is otherwise a few hundred round trips to libvirtd.
func (h *libvirtHost) List(k compiler.Kind) ([]Live, error) {
	return h.list(k, false)
}

// ListWithRunning is List that also reads, in the same pass, the running
// definition of each running domain and network that carries nixvirt's
// mark (Live.Running): a plan compares it with the persistent one
// (planPending), and reading it here, several at a time and without
// looking the object up again, saves two calls one after another per
// running guest.
func (h *libvirtHost) ListWithRunning(k compiler.Kind) ([]Live, error) {
	return h.list(k, k == compiler.KindDomain || k == compiler.KindNetwork)
}

func (h *libvirtHost) list(k compiler.Kind, withRunning bool) ([]Live, error) {
	if k == compiler.KindSecret {
		// A secret is never active or autostarted; its list is its own.
		return h.listSecrets()
	}
	all, err := h.listAll(k, 0)
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, o := range all {
			_ = o.free() // releases the handle; the object is unchanged
		}
	}()
	// The flags' list calls are made while the definitions are read.
	var active, autostart map[string]bool
	var activeErr, autostartErr error
	var lists sync.WaitGroup
	lists.Add(1)
	go func() {
		defer lists.Done()
		autostart, autostartErr = h.listUUIDs(k, autostartFlag[k])
		if k != compiler.KindDomain {
			active, activeErr = h.listUUIDs(k, activeFlag[k])
		}
	}()
	lives := make([]Live, len(all))
	errs := make([]error, len(all))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(readers, len(all)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				lives[i], errs[i] = readListed(k, all[i], withRunning)
			}
		}()
	}
	for i := range all {
		next <- i
	}
	close(next)
	wg.Wait()
	lists.Wait()
	if autostartErr != nil {
		return nil, autostartErr
	}
	if activeErr != nil {
		return nil, activeErr
	}
	out := lives[:0]
	for i, l := range lives {
		if gone(errs[i]) {
			// Removed by someone else between the list and the read.
			continue
		}
		if errs[i] != nil {
			return nil, errs[i]
		}
		u := canonicalUUID(l.UUID)
		if active != nil {
			l.Active = active[u]
		}
		l.Autostart = autostart[u]
		out = append(out, l)
	}
	return out, nil
}

// readListed reads one listed object; with withRunning, also the running
// definition of one that runs and carries a mark.
func readListed(k compiler.Kind, o listed, withRunning bool) (Live, error) {
	var l Live
	var err error
	if l.UUID, err = o.uuid(); err != nil {
		return l, err
	}
	if l.Name, err = o.name(); err != nil {
		return l, err
	}
	if o.active != nil {
		l.Active = o.active()
	}
	if l.XML, err = o.xml(); err != nil {
		return l, err
	}
	if withRunning && l.Active && o.running != nil && readMark(k, l.XML).Hash != "" {
		// Best effort, as planPending's own read: it reads again if
		// this one failed (the object stopped meanwhile).
		l.Running, _ = o.running()
	}
	return l, nil
}

var (
	activeFlag = map[compiler.Kind]uint32{
		compiler.KindNetwork: uint32(libvirt.CONNECT_LIST_NETWORKS_ACTIVE),
		compiler.KindPool:    uint32(libvirt.CONNECT_LIST_STORAGE_POOLS_ACTIVE),
	}
	autostartFlag = map[compiler.Kind]uint32{
		compiler.KindDomain:  uint32(libvirt.CONNECT_LIST_DOMAINS_AUTOSTART),
		compiler.KindNetwork: uint32(libvirt.CONNECT_LIST_NETWORKS_AUTOSTART),
		compiler.KindPool:    uint32(libvirt.CONNECT_LIST_STORAGE_POOLS_AUTOSTART),
	}
)

// listUUIDs is the set of (canonical) UUIDs of a filtered list call.
func (h *libvirtHost) listUUIDs(k compiler.Kind, flags uint32) (map[string]bool, error) {
	objs, err := h.listAll(k, flags)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, o := range objs {
		if u, err := o.uuid(); err == nil {
			set[canonicalUUID(u)] = true
		}
		_ = o.free() // releases the handle; the object is unchanged
	}
	return set, nil
}

// listAll is one list call of a kind.
func (h *libvirtHost) listAll(k compiler.Kind, flags uint32) ([]listed, error) {
	var out []listed
	switch k {
	case compiler.KindDomain:
		doms, err := h.conn.ListAllDomains(libvirt.ConnectListAllDomainsFlags(flags))
		if err != nil {
			return nil, err
		}
		for i := range doms {
			d := &doms[i]
			out = append(out, listed{uuid: d.GetUUIDString, name: d.GetName,
				xml:     inactiveXML(func(f uint32) (string, error) { return d.GetXMLDesc(libvirt.DomainXMLFlags(f)) }, uint32(libvirt.DOMAIN_XML_INACTIVE)),
				running: func() (string, error) { return d.GetXMLDesc(0) },
				// The list call brought the id with the handle (no call):
				// a domain that runs has one.
				active: func() bool { _, err := d.GetID(); return err == nil },
				free:   d.Free})
		}
	case compiler.KindNetwork:
		nets, err := h.conn.ListAllNetworks(libvirt.ConnectListAllNetworksFlags(flags))
		if err != nil {
			return nil, err
		}
		for i := range nets {
			n := &nets[i]
			out = append(out, listed{uuid: n.GetUUIDString, name: n.GetName,
				xml:     inactiveXML(func(f uint32) (string, error) { return n.GetXMLDesc(libvirt.NetworkXMLFlags(f)) }, uint32(libvirt.NETWORK_XML_INACTIVE)),
				running: func() (string, error) { return n.GetXMLDesc(0) },
				free:    n.Free})
		}
	case compiler.KindPool:
		pools, err := h.conn.ListAllStoragePools(libvirt.ConnectListAllStoragePoolsFlags(flags))
		if err != nil {
			return nil, err
		}
		for i := range pools {
			p := &pools[i]
			out = append(out, listed{uuid: p.GetUUIDString, name: p.GetName,
				xml:  inactiveXML(func(f uint32) (string, error) { return p.GetXMLDesc(libvirt.StorageXMLFlags(f)) }, uint32(libvirt.STORAGE_XML_INACTIVE)),
				free: p.Free})
		}
	}
	return out, nil
}

func (h *libvirtHost) Definition(k compiler.Kind, uuid string) (string, error) {
	o, err := h.lookup(k, uuid)
	if err != nil {
		return "", err
	}
	defer func() { _ = o.free() }() // releases the handle; the object is unchanged
	return inactiveXML(o.desc, o.inactive)()
}

func (h *libvirtHost) Volumes(pool string) ([]LiveVolume, error) {
	p, err := h.conn.LookupStoragePoolByName(pool)
	if err != nil {
		return nil, err
	}
	defer p.Free()
	if active, _ := p.IsActive(); !active {
		// An inactive pool lists no volumes; apply starts it first.
		return nil, nil
	}
	vols, err := p.ListAllStorageVolumes(0)
	if err != nil {
		return nil, err
	}
	var out []LiveVolume
	for i := range vols {
		name, _ := vols[i].GetName()
		x, _ := vols[i].GetXMLDesc(0)
		vols[i].Free()
		out = append(out, LiveVolume{Name: name, XML: x})
	}
	return out, nil
}

func (h *libvirtHost) Define(k compiler.Kind, xml string) error {
	h.writes.Add(1)
	var err error
	switch k {
	case compiler.KindDomain:
		var d *libvirt.Domain
		if d, err = h.conn.DomainDefineXML(xml); err == nil {
			d.Free()
		}
	case compiler.KindNetwork:
		var n *libvirt.Network
		if n, err = h.conn.NetworkDefineXML(xml); err == nil {
			n.Free()
		}
	case compiler.KindPool:
		var p *libvirt.StoragePool
		if p, err = h.conn.StoragePoolDefineXML(xml, 0); err == nil {
			p.Free()
		}
	case compiler.KindSecret:
		var sec *libvirt.Secret
		if sec, err = h.conn.SecretDefineXML(xml, 0); err == nil {
			sec.Free()
		}
	}
	return err
}

// object is a libvirt domain, network or pool, looked up by UUID, with
// the operations apply uses on all three.
type object struct {
	start, destroy, undefine, free func() error
	setAutostart                   func(bool) error
	// desc reads a definition: the running one with flags 0 (for a
	// running object), the persistent one with inactive.
	desc     func(flags uint32) (string, error)
	inactive uint32
	domain   *libvirt.Domain // for what only domains have
}

func (h *libvirtHost) lookup(k compiler.Kind, uuid string) (*object, error) {
	switch k {
	case compiler.KindDomain:
		d, err := h.conn.LookupDomainByUUIDString(uuid)
		if err != nil {
			return nil, err
		}
		return &object{start: d.Create, destroy: d.Destroy, undefine: d.Undefine, free: d.Free, setAutostart: d.SetAutostart, domain: d,
			desc:     func(f uint32) (string, error) { return d.GetXMLDesc(libvirt.DomainXMLFlags(f)) },
			inactive: uint32(libvirt.DOMAIN_XML_INACTIVE)}, nil
	case compiler.KindNetwork:
		n, err := h.conn.LookupNetworkByUUIDString(uuid)
		if err != nil {
			return nil, err
		}
		return &object{start: n.Create, destroy: n.Destroy, undefine: n.Undefine, free: n.Free, setAutostart: n.SetAutostart,
			desc:     func(f uint32) (string, error) { return n.GetXMLDesc(libvirt.NetworkXMLFlags(f)) },
			inactive: uint32(libvirt.NETWORK_XML_INACTIVE)}, nil
	case compiler.KindPool:
		p, err := h.conn.LookupStoragePoolByUUIDString(uuid)
		if err != nil {
			return nil, err
		}
		// Undefine only: a pool's files are never deleted.
		return &object{start: func() error { return p.Create(0) }, destroy: p.Destroy, undefine: p.Undefine, free: p.Free, setAutostart: p.SetAutostart,
			desc:     func(f uint32) (string, error) { return p.GetXMLDesc(libvirt.StorageXMLFlags(f)) },
			inactive: uint32(libvirt.STORAGE_XML_INACTIVE)}, nil
	case compiler.KindSecret:
		sec, err := h.conn.LookupSecretByUUIDString(uuid)
		if err != nil {
			return nil, err
		}
		// A secret neither runs nor starts: only undefine applies.
		none := func() error { return fmt.Errorf("a secret does not run") }
		// Its one definition is read with flags 0.
		return &object{start: none, destroy: none, undefine: sec.Undefine, free: sec.Free, setAutostart: func(bool) error { return none() },
			desc: sec.GetXMLDesc}, nil
	}
	return nil, fmt.Errorf("no libvirt object kind %q", k)
}

// with looks an object up, runs f on it, and frees it; it counts a write.
func (h *libvirtHost) with(k compiler.Kind, uuid string, f func(*object) error) error {
	h.writes.Add(1)
	o, err := h.lookup(k, uuid)
	if err != nil {
		return err
	}
	defer func() { _ = o.free() }() // releases the handle; the object is unchanged
	return f(o)
}

func (h *libvirtHost) Undefine(k compiler.Kind, uuid string, removeNvram, removeTPM bool) error {
	return h.with(k, uuid, func(o *object) error {
		if o.domain == nil {
			return o.undefine()
		}
		// Keep NVRAM and TPM state unless the entry says otherwise. No
		// DOMAIN_UNDEFINE_MANAGED_SAVE: with it libvirt deletes the managed
		// save image; without it libvirt refuses, and the plan (see
		// keepManagedSaves) has already refused such a domain.
		flags := libvirt.DOMAIN_UNDEFINE_KEEP_NVRAM | libvirt.DOMAIN_UNDEFINE_KEEP_TPM
		if removeNvram {
			flags = flags&^libvirt.DOMAIN_UNDEFINE_KEEP_NVRAM | libvirt.DOMAIN_UNDEFINE_NVRAM
		}
		if removeTPM {
			flags = flags&^libvirt.DOMAIN_UNDEFINE_KEEP_TPM | libvirt.DOMAIN_UNDEFINE_TPM
		}
		err := o.domain.UndefineFlags(flags)
		var le libvirt.Error
		if errors.As(err, &le) && (le.Code == libvirt.ERR_INVALID_ARG || le.Code == libvirt.ERR_NO_SUPPORT) {
			// Drivers without those flags (LXC, test) keep nothing anyway.
			err = o.undefine()
		}
		return err
	})
}

func (h *libvirtHost) HasManagedSave(uuid string) (bool, error) {
	d, err := h.conn.LookupDomainByUUIDString(uuid)
	if err != nil {
		return false, err
	}
	defer d.Free()
	return d.HasManagedSaveImage(0)
}

func (h *libvirtHost) Start(k compiler.Kind, uuid string) error {
	return h.with(k, uuid, func(o *object) error { return o.start() })
}

func (h *libvirtHost) Stop(ctx context.Context, k compiler.Kind, uuid string, timeout time.Duration) error {
	return h.with(k, uuid, func(o *object) error {
		d := o.domain
		if d == nil {
			return o.destroy()
		}
		if err := d.Shutdown(); err == nil {
			deadline := time.Now().Add(timeout)
			for time.Now().Before(deadline) {
				if active, err := d.IsActive(); err == nil && !active {
					return nil
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(200 * time.Millisecond):
				}
			}
		}
		if active, err := d.IsActive(); err == nil && !active {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// The guest did not shut down in time (or cannot be asked to).
		return d.Destroy()
	})
}

func (h *libvirtHost) SetAutostart(k compiler.Kind, uuid string, on bool) error {
	return h.with(k, uuid, func(o *object) error { return o.setAutostart(on) })
}

func (h *libvirtHost) CreateVolume(pool, xml string) error {
	h.writes.Add(1)
	p, err := h.conn.LookupStoragePoolByName(pool)
	if err != nil {
		return err
	}
	defer p.Free()
	v, err := p.StorageVolCreateXML(xml, 0)
	if err != nil {
		return err
	}
	return v.Free()
}

func (h *libvirtHost) DeleteVolume(pool, name string) error {
	h.writes.Add(1)
	p, err := h.conn.LookupStoragePoolByName(pool)
	if err != nil {
		return err
	}
	defer p.Free()
	v, err := p.LookupStorageVolByName(name)
	if err != nil {
		return err
	}
	defer v.Free()
	return v.Delete(0)
}

// gone reports whether err says the object no longer exists: another
// client removed it while nixvirt read the host, which is no error of
// nixvirt's plan (the object is simply not there).
func gone(err error) bool {
	var lerr libvirt.Error
	if !errors.As(err, &lerr) {
		return false
	}
	switch lerr.Code {
	case libvirt.ERR_NO_DOMAIN, libvirt.ERR_NO_NETWORK, libvirt.ERR_NO_STORAGE_POOL, libvirt.ERR_NO_SECRET:
		return true
	}
	return false
}
