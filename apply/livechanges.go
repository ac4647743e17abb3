package apply

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/apply/live"
	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// This file wires package live into the plan and the executor: each
// change of an owned, running domain or network is classified live, next
// boot or restart; the restart policy sees the class; apply makes the
// live changes before it defines the new definition; and plan shows what
// the running object still lacks until it restarts.

// LiveUpdate changes a running object and its definition together,
// without a restart.
const LiveUpdate Action = "live-update"

// Part is one difference of a running object's definition, classified.
type Part struct {
	Class live.Class
	// Path names what changes: "currentMemory", "devices.disk[vdb]".
	Path string
	// Reason says why a part is not live.
	Reason string
	// Op is the libvirt call of a live part.
	Op live.OpKind
	// Pending: once applied, the running object still differs from its
	// definition in this part until it restarts (a next-boot part, or a
	// restart part that the restart policy does not restart for).
	Pending bool
}

// liveHost is what a Host offers beyond the Host interface for changes
// to running objects. A Host without it (a test double) has every change
// planned as before: a redefinition that restarts per the policy.
type liveHost interface {
	// RunningXML is the definition of the running object, as libvirt
	// reports it.
	RunningXML(k compiler.Kind, uuid string) (string, error)
	// ApplyLive makes a live change to the running object and to its
	// persistent definition together (live.RefusedError when libvirt
	// does not, live.PendingError when the guest has yet to complete it).
	ApplyLive(k compiler.Kind, uuid string, c live.Change) error
}

// liveFacts are what classifying a change of a running object needs.
type liveFacts struct {
	Kind compiler.Kind
	// Live is the entry's live setting; Owned, Renamed, Running (and not
	// stopped by the entry): the object's.
	Live, Owned, Renamed, Running bool
	// Restart is the entry's restart setting.
	Restart *bool
	// Previous is the definition nixvirt gave last time; Wanted the new
	// one.
	Previous, Wanted string
}

// classify returns the classified differences of a running object's
// definition and the class that decides its restart: the highest of its
// parts, or 0 when the change is not classified (live: false, a take-over,
// a rename, no previous definition, restart: true, or a difference that
// the classification cannot place) and restarts as any change does.
func classify(f liveFacts) ([]live.Change, live.Class) {
	if !f.Live || !f.Owned || f.Renamed || !f.Running || f.Previous == "" || (f.Restart != nil && *f.Restart) {
		return nil, 0
	}
	cs, err := differences(f.Kind, f.Previous, f.Wanted)
	if err != nil || len(cs) == 0 {
		return nil, 0
	}
	var top live.Class
	for _, c := range cs {
		top = max(top, c.Class)
	}
	return cs, top
}

// differences are live's classified differences between two definitions
// of a domain or network, both read in the user's terms: what libvirt
// adds by itself and nixvirt's mark taken out.
func differences(k compiler.Kind, before, after string) ([]live.Change, error) {
	b, err := xmldoc.Parse([]byte(before))
	if err != nil {
		return nil, err
	}
	a, err := xmldoc.Parse([]byte(after))
	if err != nil {
		return nil, err
	}
	return treeDifferences(k, b, a)
}

// treeDifferences are the differences of two parsed definitions, which it
// normalizes.
func treeDifferences(k compiler.Kind, before, after *xmldoc.Element) ([]live.Change, error) {
	switch k {
	case compiler.KindDomain:
		var b, a libvirtxml.Domain
		if err := unmarshalNormalized(k, before, &b); err != nil {
			return nil, err
		}
		if err := unmarshalNormalized(k, after, &a); err != nil {
			return nil, err
		}
		return live.Domain(&b, &a), nil
	case compiler.KindNetwork:
		var b, a libvirtxml.Network
		if err := unmarshalNormalized(k, before, &b); err != nil {
			return nil, err
		}
		if err := unmarshalNormalized(k, after, &a); err != nil {
			return nil, err
		}
		return live.Network(&b, &a), nil
	}
	return nil, fmt.Errorf("no live changes of a %s", k)
}

func unmarshalNormalized(k compiler.Kind, t *xmldoc.Element, into libvirtxml.Document) error {
	normalize(k, t, false)
	return into.Unmarshal(t.Render())
}

// partsOf are the parts of a plan, pending where the object will still
// differ after apply.
func partsOf(cs []live.Change, restarts bool) []Part {
	var out []Part
	for _, c := range cs {
		p := Part{Class: c.Class, Path: c.Path, Reason: c.Reason}
		if c.Op != nil {
			p.Op = c.Op.Kind
		}
		p.Pending = !restarts && (c.Class == live.NextBoot || c.Class == live.Restart)
		out = append(out, p)
	}
	return out
}

// planLive adds to a change of a running object its classified parts
// and, unless it restarts, the live step that applies the live ones.
func planLive(c *planned, cs []live.Change) {
	restarts := c.has(Restart)
	c.Parts = partsOf(cs, restarts)
	if restarts {
		return
	}
	for _, lc := range cs {
		if lc.Class == live.Live {
			c.liveOps = append(c.liveOps, lc)
		}
	}
	if len(c.liveOps) > 0 {
		c.insertAfter(Redefine, Step{Action: LiveUpdate})
	}
}

// insertAfter puts s after the step of action a, or last.
func (c *Change) insertAfter(a Action, s Step) {
	for i, x := range c.Actions {
		if x.Action == a {
			c.Actions = append(c.Actions[:i+1], append([]Step{s}, c.Actions[i+1:]...)...)
			return
		}
	}
	c.Actions = append(c.Actions, s)
}

// planPending lists what an unchanged running object still lacks of its
// definition (a next-boot change applied earlier): the differences
// between the running definition and the persistent one.
func planPending(h Host, c *planned) {
	lh, ok := h.(liveHost)
	l := c.live
	if !ok || l == nil || !l.Active || !c.facts.Owned || (c.Kind != compiler.KindDomain && c.Kind != compiler.KindNetwork) ||
		c.has(Restart) || c.has(Stop) || c.has(Redefine) || c.has(Rename) || c.has(Delete) {
		return
	}
	running, err := runningXML(lh, c.Kind, l)
	if err != nil {
		return
	}
	r, err1 := xmldoc.Parse([]byte(running))
	p, err2 := xmldoc.Parse([]byte(l.XML))
	if err1 != nil || err2 != nil {
		return
	}
	withoutRunState(c.Kind, r, p, hostCPUsOf(h))
	cs, err := treeDifferences(c.Kind, r, p)
	if err != nil {
		return
	}
	for _, lc := range cs {
		if runtimeOnly(lc) {
			continue
		}
		c.Parts = append(c.Parts, Part{Class: lc.Class, Path: lc.Path, Reason: lc.Reason, Pending: true})
	}
}

// planRunningDrift decides what putting back the drifted definition of
// a running object needs: drift is libvirt's persistent definition edited
// outside nixvirt (virsh edit), which the running object does not have
// until it restarts. So the running definition, not the drifted one, is
// compared with the configuration's (as libvirt stored it right after
// nixvirt defined it, the drift record): what the running object already has
// needs nothing, what it lacks is classified as any change is, and only a
// restart-class difference restarts it (with restart: null). Without a
// running definition to read, drift restarts as before.
func planRunningDrift(h Host, c *planned) {
	lh, ok := h.(liveHost)
	if !ok || !c.facts.Drifted || !c.facts.Running || c.wanted == nil || !c.wanted.Live || c.wanted.Restart != nil ||
		!c.has(Restart) || (c.Kind != compiler.KindDomain && c.Kind != compiler.KindNetwork) {
		return
	}
	running, err := runningXML(lh, c.Kind, c.live)
	if err != nil {
		return
	}
	r, err1 := xmldoc.Parse([]byte(running))
	// What libvirt stored right after nixvirt's define, which a plan of
	// drift has as its After: the configuration's definition in libvirt's
	// words, as the running one is.
	w, err2 := xmldoc.Parse([]byte(c.After))
	if err1 != nil || err2 != nil {
		return
	}
	withoutRunState(c.Kind, r, w, hostCPUsOf(h))
	cs, err := treeDifferences(c.Kind, r, w)
	if err != nil {
		return
	}
	var lacks []live.Change
	var top live.Class
	for _, lc := range cs {
		if runtimeOnly(lc) {
			continue
		}
		lacks = append(lacks, lc)
		top = max(top, lc.Class)
	}
	if top != live.Restart {
		c.Actions = removeStep(c.Actions, Restart)
		c.facts.Class = top
	}
	if lacks != nil {
		planLive(c, lacks)
	}
}

// runningXML is the running definition of a listed object: the one the
// listing read (Live.Running), else read now.
func runningXML(lh liveHost, k compiler.Kind, l *Live) (string, error) {
	if l.Running != "" {
		return l.Running, nil
	}
	return lh.RunningXML(k, l.UUID)
}

// withoutRunState is a running definition without what libvirt reports
// only about a running object, so that it compares with the persistent
// one: the network's connection count, the domain's default resource
// partition, a disk source's index and empty backing store, an interface's
// port id and the bridge of its network, the ports libvirt chose for
// graphics with autoport, the CPU libvirt chose for a host-model or
// maximum one, the iothread ids libvirt numbered, the pins a pin taken
// out live leaves (where unpinned threads run: hostCPUs, or the vcpu
// cpuset), and a NAT network's port range.
func withoutRunState(k compiler.Kind, r, p *xmldoc.Element, hostCPUs string) {
	switch k {
	case compiler.KindNetwork:
		r.RemoveAttrs("connections")
		// libvirt writes the NAT port range it uses (1024-65535) into a
		// running NAT network only.
		if rf, pf := r.Child("forward"), p.Child("forward"); rf != nil && (pf == nil || pf.Child("nat") == nil) {
			rf.RemoveChildren("nat")
		}
	case compiler.KindDomain:
		if p.Child("resource") == nil {
			r.RemoveChildren("resource")
		}
		// libvirt writes into a running domain the CPU model and features
		// it chose when it started (also for mode custom, where it adds
		// the features the model implies): no pending change can be told
		// from that, so the CPU is left out of this comparison.
		r.RemoveChildren("cpu")
		p.RemoveChildren("cpu")
		// Which vCPUs are online, in which order: what the current count
		// says, in libvirt's words.
		r.RemoveChildren("vcpus")
		p.RemoveChildren("vcpus")
		// Pinning an I/O thread live makes libvirt write out the ids it
		// gave the iothreads count (1 to N) in the running definition.
		if p.Child("iothreadids") == nil && defaultIOThreadIDs(r) {
			r.RemoveChildren("iothreadids")
		}
		withoutUnpinnedPins(r, p, hostCPUs)
		devices := r.Child("devices")
		if devices == nil {
			break
		}
		for _, dev := range devices.Children {
			src := dev.Child("source")
			switch dev.Name {
			case "disk":
				if src != nil {
					src.RemoveAttrs("index")
				}
				if b := dev.Child("backingStore"); b != nil && len(b.Children) == 0 && len(b.Attrs) == 0 {
					dev.RemoveChildren("backingStore")
				}
			case "interface":
				if t, _ := dev.Attr("type"); t == "network" && src != nil {
					src.RemoveAttrs("portid", "bridge")
				}
			case "graphics":
				if a, _ := dev.Attr("autoport"); a == "yes" {
					dev.RemoveAttrs("port", "tlsPort", "websocket")
				}
			}
		}
		if devices := p.Child("devices"); devices != nil {
			for _, dev := range devices.Children {
				if a, _ := dev.Attr("autoport"); dev.Name == "graphics" && a == "yes" {
					dev.RemoveAttrs("port", "tlsPort", "websocket")
				}
			}
		}
	}
}

// withoutUnpinnedPins takes out of a running domain's cputune the pins
// its persistent definition lacks that pin a thread where an unpinned one
// runs (the vcpu cpuset, or every host CPU): a pin taken out live leaves
// such a pin behind (package live's pins).
func withoutUnpinnedPins(r, p *xmldoc.Element, hostCPUs string) {
	rt := r.Child("cputune")
	if rt == nil {
		return
	}
	unpinned := hostCPUs
	if v := p.Child("vcpu"); v != nil {
		if set, ok := v.Attr("cpuset"); ok {
			unpinned = set
		}
	}
	if unpinned == "" {
		return
	}
	// key is what identifies a pin: its element and vCPU or I/O thread.
	key := func(e *xmldoc.Element) string {
		vcpu, _ := e.Attr("vcpu")
		thread, _ := e.Attr("iothread")
		return e.Name + "/" + vcpu + "/" + thread
	}
	persistent := map[string]bool{}
	if pt := p.Child("cputune"); pt != nil {
		for _, e := range pt.Children {
			persistent[key(e)] = true
		}
	}
	kept := rt.Children[:0]
	for _, e := range rt.Children {
		set, _ := e.Attr("cpuset")
		pin := e.Name == "vcpupin" || e.Name == "emulatorpin" || e.Name == "iothreadpin"
		if !pin || persistent[key(e)] || set != unpinned {
			kept = append(kept, e)
		}
	}
	rt.Children = kept
}

// hostCPUsOf is the host's online CPUs in libvirt's cpuset syntax, ""
// when h cannot tell.
func hostCPUsOf(h Host) string {
	c, ok := hostAs[interface{ HostCPUs() (string, error) }](h)
	if !ok {
		return ""
	}
	cpus, err := c.HostCPUs()
	if err != nil {
		return ""
	}
	return cpus
}

// HostCPUs is the host's online CPUs in libvirt's cpuset syntax, asked
// once per connection: a plan compares every running guest with them.
func (h *libvirtHost) HostCPUs() (string, error) {
	h.cpus.once.Do(func() {
		online, _, err := h.conn.GetCPUMap(0)
		h.cpus.set, h.cpus.err = live.CPUSet(online), err
	})
	return h.cpus.set, h.cpus.err
}

// defaultIOThreadIDs reports whether a domain's iothreadids are the ids
// libvirt gives its iothreads count when it has none: 1 to N, with
// nothing else said of them.
func defaultIOThreadIDs(d *xmldoc.Element) bool {
	ids, count := d.Child("iothreadids"), d.Child("iothreads")
	if ids == nil || count == nil {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(count.Text))
	if err != nil || len(ids.Children) != n {
		return false
	}
	for i, t := range ids.Children {
		id, _ := t.Attr("id")
		if t.Name != "iothread" || id != strconv.Itoa(i+1) || len(t.Attrs) != 1 || len(t.Children) != 0 {
			return false
		}
	}
	return true
}

// runtimeOnly is a difference between a running definition and the
// persistent one that is no change waiting for a restart: the balloon's
// actual size, which the guest's driver moves towards currentMemory.
func runtimeOnly(c live.Change) bool {
	return c.Path == "currentMemory"
}

// PendingParts are the parts in which the running object differs from
// its definition once the change is applied.
func (c *Change) PendingParts() []Part {
	var out []Part
	for _, p := range c.Parts {
		if p.Pending {
			out = append(out, p)
		}
	}
	return out
}

// applyLive makes the live changes of c before its definition is
// written: done says whether any reached the running object, pending
// which the guest has yet to complete, refused which libvirt refused and
// why. A refused change falls back to the restart policy: restart
// reports whether the object is to restart for it.
func (ex *executor) applyLive(c *planned) (done bool, pending, refused []Reason, restart bool) {
	lh, ok := ex.h.(liveHost)
	if !ok {
		return false, nil, nil, false
	}
	for _, lc := range c.liveOps {
		err := lh.ApplyLive(c.Kind, c.UUID, lc)
		var re *live.RefusedError
		var pe *live.PendingError
		switch {
		case err == nil:
			done = true
		case errors.As(err, &pe):
			done = true
			pending = append(pending, Reason{Code: ReasonPendingRelease, Name: lc.Path})
			c.markPending(lc.Path, "the guest has not released it yet")
		default:
			why := libvirtMessage(err)
			if errors.As(err, &re) {
				why = re.Reason
			}
			refused = append(refused, Reason{Code: ReasonLiveRefused, Name: lc.Path, Detail: why})
			c.markPending(lc.Path, "libvirt refused the live change: "+why)
		}
	}
	if refused != nil {
		f := c.facts
		f.Class = live.Restart
		_, restart = restartPolicy(f)
	}
	return done, pending, refused, restart
}

// markPending records that a part did not reach the running object.
func (c *planned) markPending(path, why string) {
	for i := range c.Parts {
		if c.Parts[i].Path == path {
			c.Parts[i].Pending = true
			c.Parts[i].Reason = why
		}
	}
}

// fallbackRestart stops a running object whose live change libvirt
// refused, so that defineAndStart starts it with its new definition; a
// network's running domains are stopped first and started after it.
func (ex *executor) fallbackRestart(c *planned) error {
	if c.Kind == compiler.KindNetwork {
		doms, err := ex.h.List(compiler.KindDomain)
		if err != nil {
			return err
		}
		bridge := ""
		var n libvirtxml.Network
		if n.Unmarshal(c.live.XML) == nil && n.Bridge != nil {
			bridge = n.Bridge.Name
		}
		for _, d := range doms {
			if d.Active && attached(d.XML, c.live.Name, bridge) {
				dep := Stopped{Kind: compiler.KindDomain, UUID: d.UUID, Name: d.Name, For: StoppedForNetwork, Network: c.live.Name}
				// Journaled first, so that a killed apply starts it again.
				if err := ex.st.beginStops(ex.h.URI(), dep); err != nil {
					return err
				}
				if err := ex.h.Stop(ex.abandon, compiler.KindDomain, d.UUID, time.Duration(c.timeout)*time.Second); err != nil {
					return err
				}
				ex.stoppedDeps[c] = append(ex.stoppedDeps[c], dep)
			}
		}
	}
	if err := ex.st.beginStops(ex.h.URI(), Stopped{Kind: c.Kind, UUID: c.UUID, Name: c.live.Name, For: StoppedToRestart}); err != nil {
		return err
	}
	return ex.h.Stop(ex.abandon, c.Kind, c.UUID, time.Duration(c.timeout)*time.Second)
}

// RunningXML reads the definition of a running domain or network.
func (h *libvirtHost) RunningXML(k compiler.Kind, uuid string) (string, error) {
	if k != compiler.KindDomain && k != compiler.KindNetwork {
		return "", fmt.Errorf("a %s has no running definition", k)
	}
	o, err := h.lookup(k, uuid)
	if err != nil {
		return "", err
	}
	defer func() { _ = o.free() }() // releases the handle; the object is unchanged
	return o.desc(0)
}

// ApplyLive makes a live change through package live; it counts a write.
func (h *libvirtHost) ApplyLive(k compiler.Kind, uuid string, c live.Change) error {
	h.writes.Add(1)
	switch k {
	case compiler.KindDomain:
		d, err := h.conn.LookupDomainByUUIDString(uuid)
		if err != nil {
			return err
		}
		defer d.Free()
		return live.ApplyDomain(d, c)
	case compiler.KindNetwork:
		n, err := h.conn.LookupNetworkByUUIDString(uuid)
		if err != nil {
			return err
		}
		defer n.Free()
		return live.ApplyNetwork(n, c)
	}
	return fmt.Errorf("no live changes of a %s", k)
}

// liveChange is live.Change where a variable named live hides the package.
type liveChange = live.Change

// liveFirst makes c's live changes before its definition is written. When
// libvirt refuses one and the restart policy restarts for it, the object
// is stopped here (defineAndStart starts it with its new definition) and
// the reasons of that restart are returned; nil otherwise.
func (ex *executor) liveFirst(c *planned) []Reason {
	if len(c.liveOps) == 0 {
		return nil
	}
	done, pending, refused, restart := ex.applyLive(c)
	if done {
		ex.note(c, Step{Action: LiveUpdate, Reasons: pending})
	}
	if refused == nil {
		return nil
	}
	if !restart {
		// Written to the definition only: pending until a restart.
		ex.note(c, Step{Action: LiveUpdate, Reasons: refused})
		return nil
	}
	if err := ex.fallbackRestart(c); err != nil {
		ex.fail(c, "stop, to restart after a refused live change", err)
		return nil
	}
	return refused
}

// classWords are the classes as plans word them.
var classWords = map[live.Class]string{live.Live: "live", live.NextBoot: "next boot", live.Restart: "restart"}

// renderParts writes the classified parts of a change under its steps:
// one line each, its class, what changes and, when it is not live, why;
// and for an object whose definition does not change but whose running
// object still differs from it, a heading saying so.
func renderParts(w io.Writer, c *Change, colour bool) {
	if len(c.Parts) == 0 {
		return
	}
	if len(c.Actions) == 0 {
		fmt.Fprintf(w, "  %s %s %q runs with an older definition until it restarts\n", paint(colour, "≠"), c.Kind, c.Name)
	}
	for _, p := range c.Parts {
		line := fmt.Sprintf("%-9s %s", classWords[p.Class], p.Path)
		if p.Op != "" {
			line += " (" + string(p.Op) + ")"
		}
		if p.Reason != "" {
			line += ": " + p.Reason
		}
		if p.Pending {
			line += "; the running " + string(c.Kind) + " differs until it restarts"
		}
		fmt.Fprintf(w, "      %s\n", line)
	}
}

// PartClass is a part's class as the JSON plan writes it: live,
// next-boot or restart.
func PartClass(p Part) string { return p.Class.String() }
