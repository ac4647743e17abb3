package apply

import (
	"context"
	"fmt"
	"sort"
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
	ps, unmanaged, err := planConnection(h, wanted, opts)
	return changesOf(ps), unmanaged, err
}

func changesOf(ps []*planned) []*Change {
	var out []*Change
	for _, p := range ps {
		out = append(out, p.Change)
	}
	return out
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
	sort.SliceStable(p.Changes, func(i, j int) bool {
		a, b := p.Changes[i], p.Changes[j]
		if a.Connection != b.Connection {
			return a.Connection < b.Connection
		}
		return a.Kind.Order() < b.Kind.Order()
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
	Plan *Plan
	// Added, Changed and Destroyed count the objects done, as Plan.Counts
	// does, leaving out those that failed.
	Added, Changed, Destroyed int
	Failed                    []Failure
	Writes                    int64 // libvirt calls that changed a host
}

// Failure is why an object, or a whole connection (Kind ""), was not
// changed as planned.
type Failure struct {
	Connection string
	Kind       compiler.Kind
	Name       string
	// One of: Problem, the reason it could not be planned; Interrupted,
	// apply was interrupted before it began the object; Op and Message,
	// the operation that failed and libvirt's (or the system's) message.
	Problem     *Problem
	Interrupted bool
	Op, Message string
}

// Outcome is what apply did to one object, reported as it is done:
// the actions done, in order, or why it failed.
type Outcome struct {
	Connection string
	Kind       compiler.Kind
	Name       string
	Done       []Step
	Failure    *Failure
}

// Apply plans and executes every connection, in parallel, each under its
// lock. report receives each object's outcome as it is done (from one
// goroutine at a time). One failing object does not stop the others.
// When ctx is cancelled (Ctrl-C), every object apply has begun to change
// is finished and the others are left as they are, so that none is left
// half-changed.
func Apply(ctx context.Context, d *Desired, connect Connector, opts Options, report func(Outcome)) *Result {
	wanted := d.Objects
	res := &Result{Plan: &Plan{}}
	var mu sync.Mutex
	say := func(o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		report(o)
	}
	var wg sync.WaitGroup
	var done []*Change
	for _, uri := range uris(wanted) {
		wg.Add(1)
		go func(uri string) {
			defer wg.Done()
			ps, unmanaged, writes, failed, err := applyURI(ctx, uri, wanted[uri], connect, opts.forURI(d, uri), say)
			mu.Lock()
			defer mu.Unlock()
			res.Writes += writes
			if err != nil {
				res.Plan.Errors = append(res.Plan.Errors, err.Error())
				res.Failed = append(res.Failed, Failure{Connection: uri, Message: err.Error()})
				return
			}
			for _, p := range ps {
				res.Plan.Changes = append(res.Plan.Changes, p.Change)
				if f, ok := failed[p]; ok {
					res.Failed = append(res.Failed, f)
				} else {
					done = append(done, p.Change)
				}
			}
			res.Plan.Unmanaged = append(res.Plan.Unmanaged, unmanaged...)
		}(uri)
	}
	wg.Wait()
	res.Plan.sort()
	sort.SliceStable(res.Failed, func(i, j int) bool { return res.Failed[i].String() < res.Failed[j].String() })
	// The summary counts what was done: not the objects that failed.
	res.Added, res.Changed, res.Destroyed = (&Plan{Changes: done}).Counts()
	return res
}

func applyURI(ctx context.Context, uri string, wanted []*Wanted, connect Connector, opts Options, report func(Outcome)) ([]*planned, []Unmanaged, int64, map[*planned]Failure, error) {
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
	ps, unmanaged, err := planConnection(h, wanted, opts)
	if err != nil {
		return nil, nil, h.Writes(), nil, err
	}
	sortChanges(ps)
	ex := &executor{ctx: ctx, h: h, st: opts.State, report: report,
		begun: map[*planned]bool{}, failed: map[*planned]Failure{}, done: map[*planned][]Step{}}
	ex.run(ps)
	return ps, unmanaged, h.Writes(), ex.failed, nil
}

// executor runs one connection's plan and keeps its state: which objects
// it has begun, what it did to each, and which failed.
type executor struct {
	ctx    context.Context
	h      Host
	st     *State
	report func(Outcome)
	// begun are the objects apply has started to change: once begun, an
	// object is finished even after an interrupt.
	begun  map[*planned]bool
	failed map[*planned]Failure
	done   map[*planned][]Step
}

func (ex *executor) failure(c *planned) Failure {
	return Failure{Connection: ex.h.URI(), Kind: c.Kind, Name: c.Name}
}

func (ex *executor) setFailed(c *planned, f Failure) {
	ex.failed[c] = f
	ex.report(Outcome{Connection: f.Connection, Kind: c.Kind, Name: c.Name, Failure: &f})
}

func (ex *executor) hasFailed(c *planned) bool { _, ok := ex.failed[c]; return ok }

// skip reports whether c is to be left alone: it failed, or apply was
// interrupted before it began c.
func (ex *executor) skip(c *planned) bool {
	if ex.begun[c] {
		return false
	}
	if ex.ctx.Err() != nil {
		if len(c.Actions) > 0 && !ex.hasFailed(c) {
			f := ex.failure(c)
			f.Interrupted = true
			ex.setFailed(c, f)
		}
		return true
	}
	ex.begun[c] = true
	return false
}

func (ex *executor) fail(c *planned, op string, err error) {
	f := ex.failure(c)
	f.Op, f.Message = op, libvirtMessage(err)
	ex.setFailed(c, f)
}

func (ex *executor) note(c *planned, s Step) { ex.done[c] = append(ex.done[c], s) }

// run executes a connection's changes: every stop first (domains before
// the networks and pools they use), then networks and pools, their
// volumes, and domains, each defined and started; deletions last.
func (ex *executor) run(changes []*planned) {
	h := ex.h
	for _, c := range changes {
		if c.Problem != nil {
			f := ex.failure(c)
			f.Problem = c.Problem
			ex.setFailed(c, f)
		}
	}
	// Stops, domains first.
	for _, k := range compiler.StopOrder {
		for _, c := range changes {
			if c.Kind != k || ex.hasFailed(c) || c.live == nil || !c.live.Active {
				continue
			}
			if !(c.has(Stop) || c.has(Restart) || c.has(Delete)) || ex.skip(c) {
				continue
			}
			for _, dep := range c.dependents {
				if err := h.Stop(compiler.KindDomain, dep, time.Minute); err != nil {
					ex.fail(c, "stopping an attached domain", err)
				}
			}
			if ex.hasFailed(c) {
				continue
			}
			if err := h.Stop(c.Kind, c.UUID, time.Duration(c.timeout)*time.Second); err != nil {
				ex.fail(c, "stop", err)
				continue
			}
			if c.has(Stop) {
				ex.note(c, Step{Action: Stop})
			}
		}
	}
	for _, k := range compiler.TopLevelKinds {
		for _, c := range changes {
			if c.Kind != k || ex.hasFailed(c) || c.has(Delete) || len(c.Actions) == 0 || ex.skip(c) {
				continue
			}
			ex.defineAndStart(c)
			if c.Kind == compiler.KindPool && !ex.hasFailed(c) {
				ex.volumes(c)
			}
		}
	}
	// Deletions, domains first.
	for _, k := range compiler.StopOrder {
		for _, c := range changes {
			if c.Kind != k || ex.hasFailed(c) || !c.has(Delete) || ex.skip(c) {
				continue
			}
			var del Step
			for _, s := range c.Actions {
				if s.Action == Delete {
					del = s
				}
			}
			if err := h.Undefine(c.Kind, c.UUID, del.DeleteNvram, del.DeleteTPM); err != nil {
				ex.fail(c, "delete", err)
				continue
			}
			if !c.Kind.HasMetadata() {
				ex.st.setPool(h.URI(), c.UUID, poolRecord{})
			}
			ex.note(c, Step{Action: Delete})
		}
	}
	for _, c := range changes {
		if !ex.hasFailed(c) && len(ex.done[c]) > 0 {
			ex.report(Outcome{Connection: h.URI(), Kind: c.Kind, Name: c.Name, Done: ex.done[c]})
		}
	}
}

func (ex *executor) defineAndStart(c *planned) {
	w := c.wanted
	if w == nil {
		return
	}
	h := ex.h
	switch {
	case c.has(Rename):
		// libvirt keys definitions by name: the old one goes first. If the
		// new one is refused, the old one is put back.
		if err := h.Undefine(c.Kind, c.UUID, false, false); err != nil {
			ex.fail(c, "rename", err)
			return
		}
		if err := h.Define(c.Kind, w.XML); err != nil {
			h.Define(c.Kind, c.live.XML)
			ex.fail(c, "rename", err)
			return
		}
		ex.note(c, Step{Action: Rename, Reasons: []Reason{{Code: ReasonRenamed, Name: c.live.Name}}})
	case c.has(Create) || c.has(Redefine) || c.has(Adopt) || c.has(Refresh):
		if err := h.Define(c.Kind, w.XML); err != nil {
			ex.fail(c, "define", err)
			// A define is atomic: the old definition stands. An object
			// stopped to restart runs again as it was.
			if c.live != nil && c.live.Active && c.has(Restart) {
				h.Start(c.Kind, c.UUID)
			}
			return
		}
		for _, a := range []Action{Create, Redefine, Refresh, Adopt} {
			if c.has(a) {
				ex.note(c, Step{Action: a})
				break
			}
		}
	}
	if !c.Kind.HasMetadata() && (c.has(Create) || c.has(Redefine) || c.has(Adopt) || c.has(Refresh) || c.has(Rename)) {
		if err := ex.st.setPool(h.URI(), w.UUID, poolRecord{Owner: w.Owner, Hash: w.Hash, Definition: w.Definition}); err != nil {
			ex.fail(c, "record the pool as nixvirt's", err)
			return
		}
	}
	if c.has(Start) || c.has(Restart) {
		if err := h.Start(c.Kind, w.UUID); err != nil {
			ex.fail(c, "start", startHint(err))
			return
		}
		if c.has(Restart) {
			ex.note(c, Step{Action: Restart})
		} else {
			ex.note(c, Step{Action: Start})
		}
		for _, dep := range c.dependents {
			if err := h.Start(compiler.KindDomain, dep); err != nil {
				ex.fail(c, "starting an attached domain again", err)
			}
		}
	}
	for _, s := range c.Actions {
		if s.Action == Autostart && s.On != nil {
			if err := h.SetAutostart(c.Kind, w.UUID, *s.On); err != nil {
				ex.fail(c, "autostart", err)
				return
			}
			ex.note(c, Step{Action: Autostart, On: s.On})
		}
	}
}

func (ex *executor) volumes(c *planned) {
	w := c.wanted
	h := ex.h
	var pending []Step
	for _, s := range c.Actions {
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
		ex.fail(c, "list volumes", err)
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
				ex.fail(c, "create volume "+s.Volume, err)
				return
			}
			ex.note(c, Step{Action: CreateVolume, Volume: s.Volume})
		case s.Action == DeleteVolume && existing[s.Volume]:
			if err := h.DeleteVolume(w.Name, s.Volume); err != nil {
				ex.fail(c, "delete volume "+s.Volume, err)
				return
			}
			ex.note(c, Step{Action: DeleteVolume, Volume: s.Volume})
		}
	}
}

// forURI narrows the options to one connection: pruning covers only the
// kinds it manages, for the configuration's owner, and gives a pruned
// domain the connection's shutdown timeout.
func (o Options) forURI(d *Desired, uri string) Options {
	if m, ok := d.Managed[uri]; ok {
		o.managed = m
	}
	o.owner = ownerOrDefault(d.Owner)
	o.pruneTimeout = d.ShutdownTimeout[uri]
	return o
}
