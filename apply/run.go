package apply

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"nixvirt.dev/nixvirt/compiler"
)

// Connector opens a host; tests pass one that counts or injects faults.
type Connector func(uri string) (Host, error)

// MakePlan plans every connection, in parallel. It changes nothing.
func MakePlan(d *Desired, connect Connector, opts Options) *Plan {
	wanted := d.Objects
	p := &Plan{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, uri := range uris(wanted) {
		wg.Add(1)
		go func(uri string) {
			defer wg.Done()
			changes, unmanaged, err := planURI(uri, wanted[uri], connect, opts.forURI(d, uri))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				p.Errors = append(p.Errors, err.Error())
				return
			}
			p.Changes = append(p.Changes, changes...)
			p.Unmanaged = append(p.Unmanaged, unmanaged...)
		}(uri)
	}
	wg.Wait()
	p.sort()
	return p
}

func planURI(uri string, wanted []*Wanted, connect Connector, opts Options) ([]*Change, []Unmanaged, error) {
	h, err := connect(uri)
	if err != nil {
		return nil, nil, err
	}
	defer h.Close()
	return planConnection(h, wanted, opts)
}

func uris(wanted map[string][]*Wanted) []string {
	var out []string
	for u := range wanted {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

func (p *Plan) sort() {
	sort.Strings(p.Errors)
	rank := map[compiler.Kind]int{compiler.KindNetwork: 0, compiler.KindPool: 1, compiler.KindDomain: 2}
	sort.SliceStable(p.Changes, func(i, j int) bool {
		a, b := p.Changes[i], p.Changes[j]
		if a.Connection != b.Connection {
			return a.Connection < b.Connection
		}
		return rank[a.Kind] < rank[b.Kind]
	})
	sort.SliceStable(p.Unmanaged, func(i, j int) bool {
		a, b := p.Unmanaged[i], p.Unmanaged[j]
		if a.Connection != b.Connection {
			return a.Connection < b.Connection
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
}

// Result is what an apply did.
type Result struct {
	Plan                     *Plan
	Added, Changed, Destroyd int
	Failed                   []string // "connection: kind name: message"
	Writes                   int64    // libvirt calls that changed a host
}

// Apply plans and executes every connection, in parallel, each under its
// lock. report receives one line per object as it is done. One failing
// object does not stop the others. When ctx is cancelled (Ctrl-C), every
// object apply has begun to change is finished and the others are left
// as they are, so that none is left half-changed.
func Apply(ctx context.Context, d *Desired, connect Connector, opts Options, report func(string)) *Result {
	wanted := d.Objects
	res := &Result{Plan: &Plan{}}
	var mu sync.Mutex
	say := func(uri, line string) {
		mu.Lock()
		defer mu.Unlock()
		if len(wanted) > 1 {
			line = "[" + uri + "] " + line
		}
		report(line)
	}
	var wg sync.WaitGroup
	for _, uri := range uris(wanted) {
		wg.Add(1)
		go func(uri string) {
			defer wg.Done()
			changes, unmanaged, writes, failed, err := applyURI(ctx, uri, wanted[uri], connect, opts.forURI(d, uri), func(l string) { say(uri, l) })
			mu.Lock()
			defer mu.Unlock()
			res.Writes += writes
			if err != nil {
				res.Plan.Errors = append(res.Plan.Errors, err.Error())
				res.Failed = append(res.Failed, err.Error())
				return
			}
			res.Plan.Changes = append(res.Plan.Changes, changes...)
			res.Plan.Unmanaged = append(res.Plan.Unmanaged, unmanaged...)
			res.Failed = append(res.Failed, failed...)
		}(uri)
	}
	wg.Wait()
	res.Plan.sort()
	sort.Strings(res.Failed)
	// The summary counts what was done: not the steps of failed objects.
	done := &Plan{}
	for _, c := range res.Plan.Changes {
		if !c.failed {
			done.Changes = append(done.Changes, c)
		}
	}
	res.Added, res.Changed, res.Destroyd = done.Counts()
	return res
}

func applyURI(ctx context.Context, uri string, wanted []*Wanted, connect Connector, opts Options, report func(string)) ([]*Change, []Unmanaged, int64, []string, error) {
	if opts.State == nil {
		opts.State = OpenState(StateDir())
	}
	unlock, err := opts.State.lock(uri)
	if err != nil {
		return nil, nil, 0, nil, fmt.Errorf("%s: cannot take the lock: %v", uri, err)
	}
	defer unlock()
	h, err := connect(uri)
	if err != nil {
		return nil, nil, 0, nil, err
	}
	defer h.Close()
	changes, unmanaged, err := planConnection(h, wanted, opts)
	if err != nil {
		return nil, nil, h.Writes(), nil, err
	}
	sortChanges(changes)
	failed := execute(ctx, h, changes, opts.State, report)
	return changes, unmanaged, h.Writes(), failed, nil
}

// execute runs a connection's changes: every stop first (domains before
// the networks and pools they use), then networks and pools, their
// volumes, and domains, each defined and started; deletions last.
func execute(ctx context.Context, h Host, changes []*Change, st *State, report func(string)) []string {
	uri := h.URI()
	// begun are the objects apply has started to change: once begun, an
	// object is finished even after an interrupt.
	begun := map[*Change]bool{}
	failedMsg := map[*Change]string{}
	failedObj := func(c *Change) string { return failedMsg[c] }
	setFailed := func(c *Change, msg string) { failedMsg[c] = msg }
	skip := func(c *Change) bool {
		if begun[c] {
			return false
		}
		if ctx.Err() != nil {
			if len(c.Steps) > 0 && failedObj(c) == "" {
				setFailed(c, fmt.Sprintf("%s %s %q: not changed: interrupted", uri, c.Kind, c.Name))
				report(fmt.Sprintf("%s/%s not changed: interrupted", c.Kind, c.Name))
			}
			return true
		}
		begun[c] = true
		return false
	}
	fail := func(c *Change, what string, err error) {
		msg := fmt.Sprintf("%s %s %q: %s failed: %s", uri, c.Kind, c.Name, what, libvirtMessage(err))
		failedMsg[c] = msg
		report(fmt.Sprintf("%s/%s failed: %s failed: %s", c.Kind, c.Name, what, libvirtMessage(err)))
	}
	var done = map[*Change][]string{}
	note := func(c *Change, s string) { done[c] = append(done[c], s) }

	for _, c := range changes {
		if c.Error != "" {
			setFailed(c, fmt.Sprintf("%s %s %q: %s", uri, c.Kind, c.Name, c.Error))
			report(fmt.Sprintf("%s/%s not changed: %s", c.Kind, c.Name, c.Error))
		}
	}
	// Stops, domains first.
	for _, k := range []compiler.Kind{compiler.KindDomain, compiler.KindNetwork, compiler.KindPool} {
		for _, c := range changes {
			if c.Kind != k || failedObj(c) != "" || c.live == nil || !c.live.Active {
				continue
			}
			if !(c.has(Stop) || c.has(Restart) || c.has(Delete)) || skip(c) {
				continue
			}
			for _, dep := range c.dependents {
				if err := h.Stop(compiler.KindDomain, dep, time.Minute); err != nil {
					fail(c, "stopping an attached domain", err)
				}
			}
			if failedObj(c) != "" {
				continue
			}
			if err := h.Stop(c.Kind, c.UUID, time.Duration(c.timeout)*time.Second); err != nil {
				fail(c, "stop", err)
				continue
			}
			if c.has(Stop) {
				note(c, "stopped")
			}
		}
	}
	for _, k := range []compiler.Kind{compiler.KindNetwork, compiler.KindPool, compiler.KindDomain} {
		for _, c := range changes {
			if c.Kind != k || failedObj(c) != "" || c.has(Delete) || len(c.Steps) == 0 || skip(c) {
				continue
			}
			defineAndStart(h, c, st, fail, note)
			if c.Kind == compiler.KindPool && failedObj(c) == "" {
				volumes(h, c, fail, note)
			}
		}
	}
	// Deletions, domains first.
	for _, k := range []compiler.Kind{compiler.KindDomain, compiler.KindNetwork, compiler.KindPool} {
		for _, c := range changes {
			if c.Kind != k || failedObj(c) != "" || !c.has(Delete) || skip(c) {
				continue
			}
			if err := h.Undefine(c.Kind, c.UUID, c.removeNvram, c.removeTPM); err != nil {
				fail(c, "delete", err)
				continue
			}
			if c.Kind == compiler.KindPool {
				st.setPool(uri, c.UUID, poolRecord{})
			}
			note(c, "deleted")
		}
	}
	var failed []string
	for _, c := range changes {
		if msg := failedObj(c); msg != "" {
			c.failed = true
			failed = append(failed, msg)
			continue
		}
		if len(done[c]) > 0 {
			report(fmt.Sprintf("%s/%s %s", c.Kind, c.Name, strings.Join(done[c], ", ")))
		}
	}
	return failed
}

func defineAndStart(h Host, c *Change, st *State, fail func(*Change, string, error), note func(*Change, string)) {
	w := c.wanted
	if w == nil {
		return
	}
	uri := h.URI()
	switch {
	case c.has(Rename):
		// libvirt keys definitions by name: the old one goes first. If the
		// new one is refused, the old one is put back.
		if err := h.Undefine(c.Kind, c.UUID, false, false); err != nil {
			fail(c, "rename", err)
			return
		}
		if err := h.Define(c.Kind, w.XML); err != nil {
			h.Define(c.Kind, c.live.XML)
			fail(c, "rename", err)
			return
		}
		note(c, fmt.Sprintf("renamed from %q", c.oldName))
	case c.has(Create) || c.has(Redefine) || c.has(Adopt) || c.has(Refresh):
		if err := h.Define(c.Kind, w.XML); err != nil {
			fail(c, "define", err)
			// A define is atomic: the old definition stands. An object
			// stopped to restart runs again as it was.
			if c.live != nil && c.live.Active && c.has(Restart) {
				h.Start(c.Kind, c.UUID)
			}
			return
		}
		switch {
		case c.has(Create):
			note(c, "created")
		case c.has(Redefine):
			note(c, "redefined")
		case c.has(Refresh):
			note(c, "record rewritten")
		default:
			note(c, "adopted")
		}
	}
	if c.Kind == compiler.KindPool && (c.has(Create) || c.has(Redefine) || c.has(Adopt) || c.has(Refresh) || c.has(Rename)) {
		if err := st.setPool(uri, w.UUID, poolRecord{Hash: w.Hash, Definition: w.Definition}); err != nil {
			fail(c, "record the pool as nixvirt's", err)
			return
		}
	}
	if c.has(Start) || c.has(Restart) {
		if err := h.Start(c.Kind, w.UUID); err != nil {
			fail(c, "start", startHint(err))
			return
		}
		if c.has(Restart) {
			note(c, "restarted")
		} else {
			note(c, "started")
		}
		for _, dep := range c.dependents {
			if err := h.Start(compiler.KindDomain, dep); err != nil {
				fail(c, "starting an attached domain again", err)
			}
		}
	}
	for _, s := range c.Steps {
		if s.Action == Autostart && s.On != nil {
			if err := h.SetAutostart(c.Kind, w.UUID, *s.On); err != nil {
				fail(c, "autostart", err)
				return
			}
			note(c, fmt.Sprintf("autostart %v", *s.On))
		}
	}
}

func volumes(h Host, c *Change, fail func(*Change, string, error), note func(*Change, string)) {
	w := c.wanted
	var pending []Step
	for _, s := range c.Steps {
		if s.Action == CreateVolume || s.Action == DeleteVolume {
			pending = append(pending, s)
		}
	}
	if len(pending) == 0 {
		return
	}
	// The pool may have been inactive when planned: list again.
	existing := map[string]bool{}
	vols, err := h.Volumes(w.Name)
	if err != nil {
		fail(c, "list volumes", err)
		return
	}
	for _, v := range vols {
		existing[v.Name] = true
	}
	for _, s := range pending {
		var vx string
		for _, v := range w.Volumes {
			if v.Name == s.Volume {
				vx = v.XML
			}
		}
		switch {
		case s.Action == CreateVolume && !existing[s.Volume]:
			if err := h.CreateVolume(w.Name, vx); err != nil {
				fail(c, "create volume "+s.Volume, err)
				return
			}
			note(c, "volume "+s.Volume+" created")
		case s.Action == DeleteVolume && existing[s.Volume]:
			if err := h.DeleteVolume(w.Name, s.Volume); err != nil {
				fail(c, "delete volume "+s.Volume, err)
				return
			}
			note(c, "volume "+s.Volume+" deleted")
		}
	}
}

// forURI narrows the options to one connection: pruning covers only the
// kinds it manages.
func (o Options) forURI(d *Desired, uri string) Options {
	if m, ok := d.Managed[uri]; ok {
		o.managed = m
	}
	return o
}
