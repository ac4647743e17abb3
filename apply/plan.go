package apply

import (
	"fmt"
	"sort"
	"strings"

	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/compiler"
)

// Action is one thing apply does to an object.
type Action string

const (
	Create       Action = "create"
	Redefine     Action = "redefine"
	Adopt        Action = "adopt"   // mark an identical object that nixvirt did not define
	Refresh      Action = "refresh" // rewrite nixvirt's record of an equivalent definition
	Rename       Action = "rename"
	Start        Action = "start"
	Stop         Action = "stop"
	Restart      Action = "restart"
	Autostart    Action = "autostart"
	CreateVolume Action = "create-volume"
	DeleteVolume Action = "delete-volume"
	Delete       Action = "delete"
)

// Step is an action with the reason it is planned, kept for display.
type Step struct {
	Action Action `json:"action"`
	Reason string `json:"reason,omitempty"`
	// On is the autostart setting, for Autostart.
	On *bool `json:"on,omitempty"`
	// Volume names the volume, for CreateVolume and DeleteVolume.
	Volume string `json:"volume,omitempty"`
}

// Change is what happens to one object; no steps means nothing.
type Change struct {
	Connection string        `json:"connection"`
	Kind       compiler.Kind `json:"kind"`
	Name       string        `json:"name"`
	UUID       string        `json:"uuid,omitempty"`
	Steps      []Step        `json:"steps"`
	// Before and After are the normalized definitions, when it changes.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	Diff   string `json:"diff,omitempty"`
	// Error is why the object cannot be planned; nothing is done to it.
	Error string `json:"error,omitempty"`

	wanted     *Wanted
	live       *Live
	oldName    string
	dependents []string // running domains to stop and start around a network restart
	timeout    int
	failed     bool // apply could not complete it
	// removeNvram and removeTPM: a domain's deletion also removes them.
	removeNvram, removeTPM bool
}

func (c *Change) has(a Action) bool {
	for _, s := range c.Steps {
		if s.Action == a {
			return true
		}
	}
	return false
}

func (c *Change) add(a Action, reason string) {
	c.Steps = append(c.Steps, Step{Action: a, Reason: reason})
}

// Plan is what apply does to the hosts of a configuration.
type Plan struct {
	Changes []*Change `json:"changes"`
	// Unmanaged are objects on the hosts that nixvirt did not define and
	// that the configuration does not name: they are never touched.
	Unmanaged []Unmanaged `json:"unmanaged,omitempty"`
	// Errors are connections that could not be planned.
	Errors []string `json:"errors,omitempty"`
}

// Unmanaged is an object nixvirt leaves alone.
type Unmanaged struct {
	Connection string        `json:"connection"`
	Kind       compiler.Kind `json:"kind"`
	Name       string        `json:"name"`
}

// Counts are the plan's summary: objects added, changed and destroyed.
func (p *Plan) Counts() (add, change, destroy int) {
	for _, c := range p.Changes {
		for _, s := range c.Steps {
			switch s.Action {
			case Create, CreateVolume:
				add++
			case Delete, DeleteVolume:
				destroy++
			default:
				change++
			}
		}
	}
	return
}

// HasChanges reports whether applying the plan would change anything.
func (p *Plan) HasChanges() bool {
	a, c, d := p.Counts()
	return a+c+d > 0
}

// Options are the planner's settings.
type Options struct {
	// Prune deletes objects nixvirt owns that left the configuration.
	Prune bool
	// State records the pools nixvirt owns (pools have no metadata).
	State *State
	// managed are the kinds pruning covers on the connection being
	// planned; nil is all.
	managed map[compiler.Kind]bool
}

// planConnection plans one host.
func planConnection(h Host, wanted []*Wanted, opts Options) ([]*Change, []Unmanaged, error) {
	uri := h.URI()
	live := map[compiler.Kind][]Live{}
	for _, k := range []compiler.Kind{compiler.KindNetwork, compiler.KindPool, compiler.KindDomain} {
		l, err := h.List(k)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: cannot list %ss: %s", uri, k, libvirtMessage(err))
		}
		live[k] = l
	}
	var changes []*Change
	seen := map[string]bool{}
	for _, w := range wanted {
		c := planObject(uri, w, live[w.Kind], opts)
		if c.live != nil {
			seen[string(w.Kind)+"/"+c.live.UUID] = true
		}
		if w.Kind == compiler.KindPool && c.Error == "" && !w.Absent {
			planVolumes(h, c, w)
		}
		changes = append(changes, c)
	}
	planNetworkDependents(changes, live[compiler.KindDomain])

	var unmanaged []Unmanaged
	for _, k := range []compiler.Kind{compiler.KindDomain, compiler.KindNetwork, compiler.KindPool} {
		for i := range live[k] {
			l := &live[k][i]
			if seen[string(k)+"/"+l.UUID] {
				continue
			}
			if !owned(k, l, opts.State, uri) {
				unmanaged = append(unmanaged, Unmanaged{Connection: uri, Kind: k, Name: l.Name})
				continue
			}
			if !opts.Prune || (opts.managed != nil && !opts.managed[k]) {
				continue
			}
			c := &Change{Connection: uri, Kind: k, Name: l.Name, UUID: l.UUID, live: l}
			reason := "nixvirt defined it and it left the configuration"
			switch k {
			case compiler.KindDomain:
				reason += "; its disks, NVRAM and TPM state are kept"
			case compiler.KindPool:
				reason += "; its files are kept"
			}
			if l.Active {
				c.add(Stop, "before it is deleted")
			}
			c.add(Delete, reason)
			c.Before = readable(k, l.XML)
			changes = append(changes, c)
		}
	}
	return changes, unmanaged, nil
}

func owned(k compiler.Kind, l *Live, st *State, uri string) bool {
	if k == compiler.KindPool {
		return st != nil && st.poolHash(uri, l.UUID) != ""
	}
	return markOf(k, l.XML) != ""
}

// planAbsent plans an entry with present: false.
func planAbsent(uri string, w *Wanted, live []Live, opts Options) *Change {
	c := &Change{Connection: uri, Kind: w.Kind, Name: w.Name, timeout: w.ShutdownTimeout, removeNvram: !w.KeepNvram, removeTPM: !w.KeepTPM}
	for i := range live {
		if live[i].Name != w.Name {
			continue
		}
		l := &live[i]
		c.UUID, c.live = canonicalUUID(l.UUID), l
		if !owned(w.Kind, l, opts.State, uri) {
			c.Error = fmt.Sprintf("present: false, but nixvirt did not define this %s and never deletes what it does not own", w.Kind)
			return c
		}
		if l.Active {
			c.add(Stop, "before it is deleted")
		}
		reason := "present: false"
		if w.Kind == compiler.KindDomain {
			switch {
			case w.KeepNvram && w.KeepTPM:
				reason += "; its disks, NVRAM and TPM state are kept"
			case w.KeepNvram:
				reason += "; its disks and NVRAM are kept, its TPM state is deleted"
			case w.KeepTPM:
				reason += "; its disks and TPM state are kept, its NVRAM is deleted"
			default:
				reason += "; its NVRAM and TPM state are deleted, its disks kept"
			}
		}
		c.add(Delete, reason)
		c.Before = readable(w.Kind, l.XML)
	}
	return c
}

func planObject(uri string, w *Wanted, live []Live, opts Options) *Change {
	if w.Absent {
		return planAbsent(uri, w, live, opts)
	}
	c := &Change{Connection: uri, Kind: w.Kind, Name: w.Name, UUID: w.UUID, wanted: w, timeout: w.ShutdownTimeout}
	var l *Live
	for i := range live {
		if canonicalUUID(live[i].UUID) == w.UUID {
			l = &live[i]
		}
	}
	if l == nil {
		for i := range live {
			if live[i].Name == w.Name {
				c.Error = fmt.Sprintf("a %s named %q exists with UUID %s; nixvirt identifies objects by UUID: give the definition uuid: %q to take it over, or remove it", w.Kind, w.Name, live[i].UUID, live[i].UUID)
				return c
			}
		}
		c.add(Create, "")
		c.After = readable(w.Kind, w.Definition)
		if w.Active != nil && *w.Active {
			c.add(Start, "active: true")
		}
		if w.Autostart != nil && *w.Autostart {
			c.Steps = append(c.Steps, Step{Action: Autostart, On: w.Autostart, Reason: "autostart: true"})
		}
		return c
	}
	c.live = l
	isOwned := owned(w.Kind, l, opts.State, uri)
	// previous is the definition nixvirt gave the object last time.
	var prevHash, previous string
	switch {
	case w.Kind == compiler.KindPool && isOwned:
		rec := opts.State.pool(uri, l.UUID)
		prevHash, previous = rec.Hash, rec.Definition
	case isOwned:
		m := readMark(w.Kind, l.XML)
		prevHash, previous = m.Hash, m.Definition
	}
	renamed := l.Name != w.Name
	var changed bool
	switch {
	case isOwned && renamed && previous != "":
		changed = withoutName(w.Kind, previous) != withoutName(w.Kind, w.Definition)
	case isOwned:
		changed = prevHash != w.Hash
		if changed && w.Kind != compiler.KindPool && (equivalent(w.Kind, previous, w.Definition) || equivalent(w.Kind, l.XML, w.UserXML)) {
			// Written otherwise (an import of the live definition), the
			// same in effect: only nixvirt's record changes, nothing restarts.
			c.add(Refresh, "the definition is written otherwise but says what the live one does")
			changed = false
		}
	default:
		changed = !sameDefinition(w.Kind, l.XML, w.UserXML)
	}
	if w.Kind == compiler.KindPool && isOwned && !changed && !sameDefinition(w.Kind, l.XML, w.UserXML) {
		// Pools have no mark to keep in step: compare what libvirt has.
		changed = true
	}
	if renamed {
		c.oldName = l.Name
		c.add(Rename, fmt.Sprintf("same UUID, renamed from %q", l.Name))
	}
	switch {
	case changed && isOwned:
		c.add(Redefine, "its definition changed")
	case changed:
		c.add(Redefine, "nixvirt takes it over; its definition differs")
	case !isOwned:
		c.add(Adopt, "nixvirt takes over an identical object (it did not define it)")
	}
	if renamed && c.has(Refresh) {
		// A rename writes the definition anyway.
		c.Steps = removeStep(c.Steps, Refresh)
	}
	if changed || renamed {
		before := l.XML
		if previous != "" {
			before = previous
		}
		c.Before = readable(w.Kind, before)
		c.After = readable(w.Kind, w.Definition)
		c.Diff = unifiedDiff("current", "wanted", c.Before, c.After)
	}
	stays := w.Active == nil || *w.Active
	switch {
	case l.Active && stays && w.Restart != nil && *w.Restart:
		c.add(Restart, "restart: true")
	case l.Active && stays && renamed && (w.Restart == nil || *w.Restart) && w.Kind != compiler.KindPool:
		c.add(Restart, "because it was renamed")
	case l.Active && stays && changed && isOwned && w.Restart == nil && w.Kind != compiler.KindPool:
		c.add(Restart, "because its definition changed")
	case l.Active && stays && changed && w.Restart == nil && w.Kind != compiler.KindPool:
		c.add(Restart, "because nixvirt takes it over with a different definition")
	}
	if renamed && l.Active && !c.has(Restart) && stays && w.Kind != compiler.KindPool {
		c.Error = fmt.Sprintf("%s %q is running and renaming it needs a restart, which restart: false forbids; stop it first", w.Kind, l.Name)
		c.Steps = nil
		return c
	}
	if w.Active != nil && *w.Active && !l.Active {
		c.add(Start, "active: true")
	}
	if w.Active != nil && !*w.Active && l.Active {
		c.add(Stop, "active: false")
	}
	if w.Autostart != nil && *w.Autostart != l.Autostart {
		c.Steps = append(c.Steps, Step{Action: Autostart, On: w.Autostart, Reason: fmt.Sprintf("autostart: %v", *w.Autostart)})
	}
	return c
}

// planVolumes adds the volume steps of a pool: create when missing, delete
// only with present: false; an existing volume is never overwritten.
func planVolumes(h Host, c *Change, w *Wanted) {
	existing := map[string]bool{}
	if c.live != nil && c.live.Active {
		vols, err := h.Volumes(c.live.Name)
		if err != nil {
			c.Error = fmt.Sprintf("cannot list the volumes of pool %q: %s", c.live.Name, libvirtMessage(err))
			return
		}
		for _, v := range vols {
			existing[v.Name] = true
		}
	}
	needed := false
	for _, v := range w.Volumes {
		switch {
		case v.Present && !existing[v.Name]:
			c.Steps = append(c.Steps, Step{Action: CreateVolume, Volume: v.Name, Reason: "missing"})
			needed = true
		case !v.Present && existing[v.Name]:
			c.Steps = append(c.Steps, Step{Action: DeleteVolume, Volume: v.Name, Reason: "present: false"})
		}
	}
	if needed && (c.live == nil || !c.live.Active) && !c.has(Start) {
		if w.Active != nil && !*w.Active {
			c.Error = fmt.Sprintf("pool %q has volumes to create but active: false; a pool must run to create volumes", w.Name)
			c.Steps = nil
			return
		}
		c.add(Start, "to create its volumes")
	}
}

// planNetworkDependents finds the running domains attached to a network
// that restarts: they stop before and start after it.
func planNetworkDependents(changes []*Change, domains []Live) {
	stopping := map[string]bool{}
	for _, c := range changes {
		if c.Kind == compiler.KindDomain && (c.has(Stop) || c.has(Restart) || c.has(Delete)) {
			stopping[c.UUID] = true
		}
	}
	for _, c := range changes {
		if c.Kind != compiler.KindNetwork || !c.has(Restart) || c.live == nil {
			continue
		}
		var n libvirtxml.Network
		if n.Unmarshal(c.live.XML) != nil {
			continue
		}
		bridge := ""
		if n.Bridge != nil {
			bridge = n.Bridge.Name
		}
		for _, d := range domains {
			if !d.Active || stopping[canonicalUUID(d.UUID)] || !attached(d.XML, c.live.Name, bridge) {
				continue
			}
			c.dependents = append(c.dependents, d.UUID)
			c.Steps[len(c.Steps)-1].Reason += fmt.Sprintf("; domain %q is stopped and started around it", d.Name)
		}
	}
}

func attached(domainXML, network, bridge string) bool {
	var d libvirtxml.Domain
	if d.Unmarshal(domainXML) != nil || d.Devices == nil {
		return false
	}
	for _, i := range d.Devices.Interfaces {
		if i.Source == nil {
			continue
		}
		if i.Source.Network != nil && i.Source.Network.Network == network {
			return true
		}
		if i.Source.Bridge != nil && bridge != "" && i.Source.Bridge.Bridge == bridge {
			return true
		}
	}
	return false
}

// sortChanges orders a connection's changes as apply runs them.
func sortChanges(cs []*Change) {
	rank := map[compiler.Kind]int{compiler.KindNetwork: 0, compiler.KindPool: 1, compiler.KindDomain: 2}
	sort.SliceStable(cs, func(i, j int) bool { return rank[cs[i].Kind] < rank[cs[j].Kind] })
}

// withoutName is a definition as shown, without its name: a rename alone
// is not a change of definition.
func withoutName(k compiler.Kind, doc string) string {
	var out []string
	for _, line := range strings.Split(readable(k, doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "<name>") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func removeStep(steps []Step, a Action) []Step {
	var out []Step
	for _, s := range steps {
		if s.Action != a {
			out = append(out, s)
		}
	}
	return out
}
