package apply

import (
	"context"
	"errors"
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
			changes, left, err := planURI(uri, wanted[uri], connect, opts.forURI(d, uri))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				p.Errors = append(p.Errors, err.Error())
				return
			}
			p.Changes = append(p.Changes, changes...)
			p.Unmanaged = append(p.Unmanaged, left.unmanaged...)
			p.Kept = append(p.Kept, left.kept...)
		}(uri)
	}
	wg.Wait()
	p.sort()
	return p
}

func planURI(uri string, wanted []*Wanted, connect Connector, opts Options) ([]*Change, leftAlone, error) {
	h, err := connect(uri)
	if err != nil {
		return nil, leftAlone{}, err
	}
	defer h.Close()
	ps, left, err := planConnection(h, wanted, opts)
	return changesOf(ps), left, err
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
	sort.SliceStable(p.Kept, func(i, j int) bool {
		a, b := p.Kept[i], p.Kept[j]
		if a.Connection != b.Connection {
			return a.Connection < b.Connection
		}
		return a.Kind.Order() < b.Kind.Order()
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
	// Addresses are those of the domains apply waited for (waitFor).
	Addresses []DomainAddresses
}

// Failure is why an object, or a whole connection (Kind ""), was not
// changed as planned.
type Failure struct {
	Connection string
	Kind       compiler.Kind
	Name       string
	// One of: Problem, the reason it could not be planned; Interrupted,
	// apply was interrupted before it began the object; Abandoned, apply
	// stopped waiting for the object (or a domain attached to it) to shut
	// down, and left it as it was then, for the next apply to finish; Op
	// and Message, the operation that failed and libvirt's (or the
	// system's) message.
	Problem     *Problem
	Interrupted bool
	Abandoned   bool
	Op, Message string
}

// Object names one object of a connection.
type Object struct {
	Connection string
	Kind       compiler.Kind
	Name       string
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

// Waiting is a shutdown apply waits for, reported about every second:
// of the object itself, or (Domain) of a domain attached to a network
// that restarts.
type Waiting struct {
	Object
	Domain           string
	Elapsed, Timeout time.Duration
}

// Controls are how a caller follows an apply and stops it early.
type Controls struct {
	// Finish, once done (a first Ctrl-C), stops apply beginning objects;
	// those it has begun are finished, so that none is left half-changed.
	// Abandon, once done (a second Ctrl-C, SIGTERM), also stops it waiting
	// for guests to shut down (see Failure.Abandoned). nil is never.
	Finish, Abandon context.Context
	// Began, Outcome and Waiting receive, from one goroutine at a time,
	// each object as apply begins to change it, each one's outcome as it
	// is done, and the shutdowns it waits for. nil receives nothing.
	Began   func(Object)
	Outcome func(Outcome)
	Waiting func(Waiting)
	// Approve, when set, sees each connection's plan as it is about to be
	// executed, under the connection's lock: when it refuses (returning
	// why), the connection is left as it is. A command line that asked
	// about one plan executes no other.
	Approve func(*Plan) error
}

// maxParallelStops bounds the domains of one connection that shut down
// at once: enough that independent guests do not wait for one another,
// few enough not to flood a host with shutdowns.
const maxParallelStops = 4

// Apply plans and executes every connection, in parallel, each under its
// lock. report receives each object's outcome as it is done (from one
// goroutine at a time). One failing object does not stop the others.
// When ctx is cancelled (Ctrl-C), every object apply has begun to change
// is finished and the others are left as they are, so that none is left
// half-changed. ApplyWith has the finer controls.
func Apply(ctx context.Context, d *Desired, connect Connector, opts Options, report func(Outcome)) *Result {
	return ApplyWith(d, connect, opts, Controls{Finish: ctx, Outcome: report})
}

// ApplyWith is Apply with the controls of a command line: progress as it
// goes, and two stages of interruption.
func ApplyWith(d *Desired, connect Connector, opts Options, ctl Controls) *Result {
	wanted := d.Objects
	res := &Result{Plan: &Plan{}}
	if ctl.Finish == nil {
		ctl.Finish = context.Background()
	}
	if ctl.Abandon == nil {
		ctl.Abandon = context.Background()
	}
	// Every event goes through one lock: the caller sees one at a time.
	var mu sync.Mutex
	ev := events{}
	if ctl.Began != nil {
		ev.began = func(o Object) { mu.Lock(); defer mu.Unlock(); ctl.Began(o) }
	}
	ev.outcome = func(o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		res.Addresses = append(res.Addresses, addressesOf(o)...)
		if ctl.Outcome != nil {
			ctl.Outcome(o)
		}
	}
	if ctl.Waiting != nil {
		ev.waiting = func(w Waiting) { mu.Lock(); defer mu.Unlock(); ctl.Waiting(w) }
	}
	var rmu sync.Mutex
	var wg sync.WaitGroup
	var done []*Change
	for _, uri := range uris(wanted) {
		wg.Add(1)
		go func(uri string) {
			defer wg.Done()
			ps, left, writes, failed, err := applyURI(ctl, uri, wanted[uri], connect, opts.forURI(d, uri), ev)
			rmu.Lock()
			defer rmu.Unlock()
			res.Writes += writes
			if err != nil {
				res.Plan.Errors = append(res.Plan.Errors, err.Error())
				res.Failed = append(res.Failed, Failure{Connection: uri, Message: err.Error()})
				return
			}
			for _, p := range ps {
				res.Plan.Changes = append(res.Plan.Changes, p.Change)
				res.Failed = append(res.Failed, volumeFailures(p.Change)...)
				if f, ok := failed[p]; ok {
					res.Failed = append(res.Failed, f)
				} else {
					done = append(done, p.Change)
				}
			}
			res.Plan.Unmanaged = append(res.Plan.Unmanaged, left.unmanaged...)
			res.Plan.Kept = append(res.Plan.Kept, left.kept...)
		}(uri)
	}
	wg.Wait()
	res.Plan.sort()
	sort.SliceStable(res.Failed, func(i, j int) bool { return res.Failed[i].String() < res.Failed[j].String() })
	// The summary counts what was done: not the objects that failed.
	res.Added, res.Changed, res.Destroyed = (&Plan{Changes: done}).Counts()
	return res
}

// events are a Controls' receivers, serialized, never nil.
type events struct {
	began   func(Object)
	outcome func(Outcome)
	waiting func(Waiting)
}

func (e events) orNothing() events {
	if e.began == nil {
		e.began = func(Object) {}
	}
	if e.outcome == nil {
		e.outcome = func(Outcome) {}
	}
	if e.waiting == nil {
		e.waiting = func(Waiting) {}
	}
	return e
}

func applyURI(ctl Controls, uri string, wanted []*Wanted, connect Connector, opts Options, ev events) ([]*planned, leftAlone, int64, map[*planned]Failure, error) {
	if opts.State == nil {
		opts.State = OpenState(StateDir())
	}
	unlock, err := opts.State.lock(uri)
	if err != nil {
		return nil, leftAlone{}, 0, nil, fmt.Errorf("%s: cannot take the lock: %v", uri, err)
	}
	defer unlock()
	unlockClaims, err := opts.State.lockClaims(uri)
	if err != nil {
		return nil, leftAlone{}, 0, nil, fmt.Errorf("%s: %v", uri, err)
	}
	defer unlockClaims()
	h, err := connect(uri)
	if err != nil {
		return nil, leftAlone{}, 0, nil, err
	}
	defer h.Close()
	ps, left, err := planConnection(h, wanted, opts)
	if err != nil {
		return nil, leftAlone{}, h.Writes(), nil, err
	}
	sortChanges(ps)
	if ctl.Approve != nil {
		if err := ctl.Approve(&Plan{Changes: changesOf(ps)}); err != nil {
			return nil, leftAlone{}, h.Writes(), nil, fmt.Errorf("%s: %v", uri, err)
		}
	}
	if err := forgetFinished(opts.State, uri, ps); err != nil {
		return nil, leftAlone{}, h.Writes(), nil, err
	}
	ex := &executor{finish: ctl.Finish, abandon: ctl.Abandon, h: h, st: opts.State, ev: ev.orNothing(),
		begun: map[*planned]bool{}, failed: map[*planned]Failure{}, done: map[*planned][]Step{}, reported: map[*planned]bool{},
		stoppedSelf: map[*planned]bool{}, stoppedDeps: map[*planned][]Stopped{}}
	ex.files = ex.fetchContent(ps)
	ex.run(ps)
	return ps, left, h.Writes(), ex.failed, nil
}

// executor runs one connection's plan and keeps its state: which objects
// it has begun, what it did to each, and which failed. Its state belongs
// to the goroutine that runs it; only the waits for shutdowns run in
// others.
type executor struct {
	finish, abandon context.Context
	h               Host
	st              *State
	ev              events
	// begun are the objects apply has started to change: once begun, an
	// object is finished even after an interrupt.
	begun    map[*planned]bool
	failed   map[*planned]Failure
	done     map[*planned][]Step
	reported map[*planned]bool
	// files are the local files volumes are filled from (fetchContent).
	files contentFiles
	// stoppedSelf are the objects stopped to restart, stoppedDeps the
	// domains stopped around a network's restart: each is started again,
	// also when what comes between fails (restore), and is in the
	// journal until it is.
	stoppedSelf map[*planned]bool
	stoppedDeps map[*planned][]Stopped
	// unsaved are the objects whose record of what libvirt stored is not
	// written yet (saveDefined); unsavedVolumes the pools (and domains,
	// for their seeds) whose volume records may not be.
	unsaved        []*planned
	unsavedVolumes []*planned
}

// saveDefined writes the records of what libvirt stored, once per step
// (State.saveDefined); when it cannot, each object recorded since the
// last write fails with why.
func (ex *executor) saveDefined() {
	if err := ex.st.saveDefined(ex.h.URI()); err != nil {
		for _, c := range ex.unsaved {
			ex.addFailure(c, "record what libvirt stored", err)
		}
	}
	ex.unsaved = nil
	if err := ex.st.saveVolumes(ex.h.URI()); err != nil {
		for _, c := range ex.unsavedVolumes {
			ex.addFailure(c, "record what its volumes hold", err)
		}
	}
	ex.unsavedVolumes = nil
}

func (ex *executor) failure(c *planned) Failure {
	return Failure{Connection: ex.h.URI(), Kind: c.Kind, Name: c.Name}
}

func (ex *executor) object(c *planned) Object {
	return Object{Connection: ex.h.URI(), Kind: c.Kind, Name: c.Name}
}

func (ex *executor) setFailed(c *planned, f Failure) {
	ex.failed[c] = f
	ex.reported[c] = true
	ex.ev.outcome(Outcome{Connection: f.Connection, Kind: c.Kind, Name: c.Name, Failure: &f})
}

func (ex *executor) hasFailed(c *planned) bool { _, ok := ex.failed[c]; return ok }

func (ex *executor) interrupted() bool {
	return ex.finish.Err() != nil || ex.abandon.Err() != nil
}

// skip reports whether c is to be left alone: it failed, or apply was
// interrupted before it began c.
func (ex *executor) skip(c *planned) bool {
	if ex.begun[c] {
		return false
	}
	if ex.interrupted() {
		if len(c.Actions) > 0 && !ex.hasFailed(c) {
			f := ex.failure(c)
			f.Interrupted = true
			ex.setFailed(c, f)
		}
		return true
	}
	ex.begun[c] = true
	ex.ev.began(ex.object(c))
	return false
}

func (ex *executor) fail(c *planned, op string, err error) {
	f := ex.failure(c)
	f.Op, f.Message = op, libvirtMessage(err)
	ex.setFailed(c, f)
}

func (ex *executor) note(c *planned, s Step) { ex.done[c] = append(ex.done[c], s) }

// The phases of a connection's run, in order.
const (
	phaseStop = iota
	phaseDefine
	phaseDelete
)

// hasWork reports whether c has something to do in phase p: a stop, a
// definition, start, autostart or volume, or a deletion or a wait for
// addresses.
func hasWork(c *planned, p int) bool {
	switch p {
	case phaseStop:
		return c.live != nil && c.live.Active && (c.has(Stop) || c.has(Restart) || c.has(Delete))
	case phaseDefine:
		if c.has(Delete) {
			return false
		}
		for _, s := range c.Actions {
			if s.Action != Stop {
				return true
			}
		}
		return false
	}
	// Waiting for addresses comes after every definition and start, so a
	// domain's line, with its addresses, comes then.
	return c.has(Delete) || c.has(WaitAddress) || c.has(DeleteSeed)
}

// finished reports c's outcome once phase p was its last: each object's
// line comes as it is done, not at the end of the run.
func (ex *executor) finished(c *planned, p int) {
	if ex.reported[c] || ex.hasFailed(c) {
		return
	}
	for later := p + 1; later <= phaseDelete; later++ {
		if hasWork(c, later) {
			return
		}
	}
	if len(ex.done[c]) > 0 {
		ex.reported[c] = true
		ex.ev.outcome(Outcome{Connection: ex.h.URI(), Kind: c.Kind, Name: c.Name, Done: ex.done[c]})
	}
}

// run executes a connection's changes: every stop first (domains before
// the networks and pools they use; the domains' shutdowns in parallel),
// then networks and pools, their volumes, and domains, each defined and
// started; deletions last.
func (ex *executor) run(changes []*planned) {
	h := ex.h
	for _, c := range changes {
		if c.Problem != nil {
			f := ex.failure(c)
			f.Problem = c.Problem
			ex.setFailed(c, f)
		}
		for _, f := range volumeFailures(c.Change) {
			ex.ev.outcome(Outcome{Connection: f.Connection, Kind: f.Kind, Name: f.Name, Failure: &f})
		}
	}
	// Stops, domains first.
	for _, k := range compiler.StopOrder {
		var stops []*planned
		for _, c := range changes {
			if c.Kind == k && !ex.hasFailed(c) && hasWork(c, phaseStop) {
				stops = append(stops, c)
			}
		}
		ex.stopAll(stops)
	}
	for _, k := range compiler.TopLevelKinds {
		for _, c := range changes {
			if c.Kind != k || ex.hasFailed(c) || c.has(Delete) || len(c.Actions) == 0 || ex.skip(c) {
				continue
			}
			if c.Kind == compiler.KindSecret {
				ex.secret(c)
			} else {
				ex.defineAndStart(c)
			}
			if c.Kind == compiler.KindPool && !ex.hasFailed(c) {
				ex.volumes(c, ex.files)
			}
			ex.finished(c, phaseDefine)
		}
		ex.saveDefined()
	}
	// Deletions, domains first. The seeds of domains that stay go once
	// the domains are redefined without them.
	for _, k := range compiler.StopOrder {
		for _, c := range changes {
			if c.Kind == k && !c.has(Delete) && c.has(DeleteSeed) && ex.begun[c] && !ex.hasFailed(c) {
				ex.deleteSeeds(c)
				continue
			}
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
			ex.note(c, Step{Action: Delete})
			ex.deleteSeeds(c)
			// Deleted: a record left behind owns nothing (a pool record
			// names the UUID and definition), but say that it could not
			// be removed, since the state directory needs looking at.
			if err := ex.st.forget(h.URI(), c.Kind, c.UUID); err != nil {
				ex.addFailure(c, "forget nixvirt's record of it", err)
			}
			ex.unsaved = append(ex.unsaved, c)
			if err := ex.st.setDefined(h.URI(), c.Kind, c.UUID, definedRecord{}); err != nil {
				ex.addFailure(c, "forget nixvirt's record of it", err)
			}
			ex.finished(c, phaseDelete)
		}
	}
	ex.saveDefined()
	ex.waitAddresses(changes)
	// Owned objects without a record of what libvirt stored get one now,
	// so that a later change outside nixvirt shows as drift.
	for _, c := range changes {
		if c.needsRecord && !ex.hasFailed(c) && c.wanted != nil && c.live != nil && !c.has(Redefine) {
			ex.unsaved = append(ex.unsaved, c)
			if err := ex.st.setDefined(h.URI(), c.Kind, c.live.UUID, definedAs(c.Kind, c.wanted, c.live.XML)); err != nil {
				ex.addFailure(c, "record what libvirt stored", err)
			}
		}
	}
	ex.saveDefined()
	for _, c := range changes {
		ex.finished(c, phaseDelete)
	}
}

// stopAll stops objects of one kind, up to maxParallelStops at once. The
// waits run in their own goroutines; each result comes back to this one,
// which alone keeps the executor's state, and is reported as it comes.
// An object is begun only when its turn comes: one still queued at an
// interrupt is left alone.
func (ex *executor) stopAll(queue []*planned) {
	type stopped struct {
		c    *planned
		op   string
		deps []Stopped // the attached domains it stopped
		err  error
	}
	results := make(chan stopped)
	running := 0
	for len(queue) > 0 || running > 0 {
		for running < maxParallelStops && len(queue) > 0 {
			c := queue[0]
			queue = queue[1:]
			if ex.skip(c) {
				continue
			}
			// What is stopped to be started again is journaled first, so
			// that an apply killed from here on is finished by the next.
			if err := ex.st.beginStops(ex.h.URI(), ex.toRestart(c)...); err != nil {
				ex.fail(c, "record what it stops in the journal", err)
				continue
			}
			running++
			go func() {
				op, deps, err := ex.stop(c)
				results <- stopped{c, op, deps, err}
			}()
		}
		if running == 0 {
			return
		}
		r := <-results
		running--
		ex.stoppedDeps[r.c] = append(ex.stoppedDeps[r.c], r.deps...)
		switch {
		case r.err != nil && errors.Is(r.err, context.Canceled) && ex.abandon.Err() != nil:
			// Left as it is; the journal keeps what the next apply
			// must start again.
			f := ex.failure(r.c)
			f.Abandoned = true
			ex.setFailed(r.c, f)
		case r.err != nil:
			ex.fail(r.c, r.op, r.err)
			ex.restore(r.c)
		default:
			ex.stoppedSelf[r.c] = r.c.has(Restart)
			if r.c.has(Stop) {
				ex.note(r.c, Step{Action: Stop})
			}
			ex.finished(r.c, phaseStop)
		}
	}
}

// stop stops one object, after the running domains attached to it; it
// returns the operation that failed and the attached domains it stopped.
// It runs in its own goroutine and touches nothing of the executor's
// state.
func (ex *executor) stop(c *planned) (string, []Stopped, error) {
	var deps []Stopped
	for _, dep := range c.dependents {
		if c.reattach {
			// They keep running; their interfaces are re-attached after
			// the network starts again (reattach.go).
			break
		}
		if err := ex.waitStop(c, dep.Name, compiler.KindDomain, dep.UUID, time.Duration(c.timeout)*time.Second); err != nil {
			return "stopping an attached domain", deps, err
		}
		deps = append(deps, dep)
	}
	return "stop", deps, ex.waitStop(c, "", c.Kind, c.UUID, time.Duration(c.timeout)*time.Second)
}

// waitStop stops an object and, while a domain shuts down, reports the
// wait every second. The last report comes before it returns.
func (ex *executor) waitStop(c *planned, domain string, k compiler.Kind, uuid string, timeout time.Duration) error {
	if k != compiler.KindDomain {
		return ex.h.Stop(ex.abandon, k, uuid, timeout)
	}
	errc := make(chan error, 1)
	go func() { errc <- ex.h.Stop(ex.abandon, k, uuid, timeout) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
	for {
		select {
		case err := <-errc:
			return err
		case now := <-tick.C:
			ex.ev.waiting(Waiting{Object: ex.object(c), Domain: domain, Elapsed: now.Sub(start), Timeout: timeout})
		}
	}
}

func (ex *executor) defineAndStart(c *planned) {
	w := c.wanted
	h := ex.h
	if w == nil {
		// An object only an unfinished apply's journal names: started again.
		if c.live != nil && c.has(Start) {
			if err := h.Start(c.Kind, c.UUID); err != nil {
				ex.fail(c, "start", err)
				return
			}
			ex.endStop(c, c.Kind, c.UUID)
			ex.note(c, Step{Action: Start})
		}
		return
	}
	// A pool is recorded as nixvirt's before libvirt has its definition
	// (recordPoolFirst), and its old record put back when libvirt refuses.
	writesPool := !c.Kind.HasMetadata() && (c.has(Create) || c.has(Redefine) || c.has(Adopt) || c.has(Refresh) || c.has(Rename))
	var prevPool poolRecord
	if writesPool {
		var err error
		if prevPool, err = ex.recordPoolFirst(c); err != nil {
			ex.fail(c, "record the pool as nixvirt's", err)
			ex.restore(c)
			return
		}
	}
	// fallback are the reasons a running object restarts after libvirt
	// refused a live change (livechanges.go); nil when it does not.
	var fallback []Reason
	switch {
	case c.has(Rename):
		// libvirt keys definitions by name: the old one goes first. If the
		// new one is refused, the old one is put back, and started again
		// if it was stopped for the rename.
		if err := h.Undefine(c.Kind, c.UUID, false, false); err != nil {
			ex.fail(c, "rename", err)
			ex.putBackPoolRecord(c, writesPool, prevPool)
			ex.restore(c)
			return
		}
		if err := h.Define(c.Kind, w.XML); err != nil {
			ex.fail(c, "rename", err)
			if rerr := h.Define(c.Kind, c.live.XML); rerr != nil {
				ex.addFailure(c, fmt.Sprintf("putting back its definition as %q (it is undefined now: define it from the plan's diff)", c.live.Name), rerr)
			}
			ex.putBackPoolRecord(c, writesPool, prevPool)
			ex.restore(c)
			return
		}
		ex.note(c, Step{Action: Rename, Reasons: []Reason{{Code: ReasonRenamed, Name: c.live.Name}}})
		if err := ex.recordDefined(c); err != nil {
			ex.fail(c, "record what libvirt stored", err)
			ex.restore(c)
			return
		}
	case c.has(Create) || c.has(Redefine) || c.has(Adopt) || c.has(Refresh):
		if fallback = ex.liveFirst(c); ex.hasFailed(c) {
			ex.putBackPoolRecord(c, writesPool, prevPool)
			return
		}
		if err := h.Define(c.Kind, w.XML); err != nil {
			ex.fail(c, "define", err)
			ex.putBackPoolRecord(c, writesPool, prevPool)
			// A define is atomic: the old definition stands. An object
			// stopped to restart runs again as it was, and so do the
			// domains stopped around it.
			ex.restore(c)
			if fallback != nil {
				// Stopped after a refused live change (fallbackRestart).
				if err := h.Start(c.Kind, c.UUID); err != nil {
					ex.addFailure(c, "starting it again", err)
				}
			}
			return
		}
		for _, a := range []Action{Create, Redefine, Refresh, Adopt} {
			if c.has(a) {
				ex.note(c, Step{Action: a})
				break
			}
		}
		if err := ex.recordDefined(c); err != nil {
			ex.fail(c, "record what libvirt stored", err)
			ex.restore(c)
			return
		}
	}
	if writesPool {
		if err := ex.st.setPool(h.URI(), w.UUID, poolRecord{Owner: w.Owner, Hash: w.Hash, Definition: w.Definition}); err != nil {
			ex.fail(c, "record the pool as nixvirt's", err)
			ex.restore(c)
			return
		}
	}
	if c.has(Start) || c.has(Restart) || fallback != nil {
		err := h.Start(c.Kind, w.UUID)
		// Started or not, restore below does not try c again: one that
		// failed to start stays in the journal for the next apply.
		ex.stoppedSelf[c] = false
		if err != nil {
			ex.fail(c, "start", startHint(err))
		} else {
			ex.endStop(c, c.Kind, w.UUID)
			if c.Kind == compiler.KindPool && (c.has(Create) || c.has(Redefine) || c.has(Adopt) || c.has(Refresh) || c.has(Rename)) {
				// Starting a pool fills in its target's permissions
				// from the directory: record what libvirt has then.
				if err := ex.recordDefined(c); err != nil {
					ex.fail(c, "record what libvirt stored", err)
				}
			}
			switch {
			case c.has(Restart):
				ex.note(c, Step{Action: Restart})
			case fallback != nil:
				ex.note(c, Step{Action: Restart, Reasons: fallback})
			default:
				ex.note(c, Step{Action: Start})
			}
			if c.reattach {
				ex.reattachDependents(c)
			}
		}
		// The domains stopped around a network are started again even if
		// it failed to start (they may not need it to run); those that
		// fail stay in the journal, for the next apply.
		ex.restore(c)
		if err != nil {
			return
		}
		if c.has(RestartResumed) {
			// The start resumed a saved guest with its old definition
			// (managedsave.go).
			if ex.restartResumed(c); ex.hasFailed(c) {
				return
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

// toRestart are the objects the stop phase stops to start them again:
// the domains attached to a network that restarts, and c if it restarts.
func (ex *executor) toRestart(c *planned) []Stopped {
	var out []Stopped
	if !c.reattach {
		out = append(out, c.dependents...)
	}
	if c.has(Restart) {
		out = append(out, Stopped{Kind: c.Kind, UUID: c.UUID, Name: c.live.Name, For: StoppedToRestart})
	}
	return out
}

// restore starts again what the stop phase stopped for c and has not
// been started again: c itself (with the definition it has, after a
// define or rename that failed) and the domains attached to it. Each
// one that starts leaves the journal; one that does not stays in it,
// and the next apply tries again. Entries of objects that were never
// stopped (a stop that failed) leave the journal too.
func (ex *executor) restore(c *planned) {
	h := ex.h
	if ex.stoppedSelf[c] {
		if err := h.Start(c.Kind, c.UUID); err != nil {
			ex.addFailure(c, "starting it again", err)
		} else {
			ex.endStop(c, c.Kind, c.UUID)
		}
		delete(ex.stoppedSelf, c)
	} else if _, ok := ex.stoppedSelf[c]; !ok && c.has(Restart) {
		ex.endStop(c, c.Kind, c.UUID)
	}
	stopped := map[string]bool{}
	for _, dep := range ex.stoppedDeps[c] {
		stopped[canonicalUUID(dep.UUID)] = true
		if err := h.Start(compiler.KindDomain, dep.UUID); err != nil {
			ex.addFailure(c, "starting attached domain "+dep.Name+" again", err)
			continue
		}
		ex.endStop(c, compiler.KindDomain, dep.UUID)
	}
	delete(ex.stoppedDeps, c)
	for _, dep := range c.dependents {
		if !stopped[canonicalUUID(dep.UUID)] {
			ex.endStop(c, compiler.KindDomain, dep.UUID)
		}
	}
}

// endStop takes an object that runs again out of the journal. An entry
// that stays is harmless (the next apply drops entries of running
// objects) but says the state directory cannot be written: c fails.
func (ex *executor) endStop(c *planned, k compiler.Kind, uuid string) {
	if err := ex.st.endStop(ex.h.URI(), k, uuid); err != nil {
		ex.addFailure(c, "clear its journal entry", err)
	}
}

// addFailure records a failure of c, or adds to the one it has.
func (ex *executor) addFailure(c *planned, op string, err error) {
	f, ok := ex.failed[c]
	if !ok {
		ex.fail(c, op, err)
		return
	}
	f.Message += "; then " + op + ": " + libvirtMessage(err)
	ex.failed[c] = f
}

// forgetFinished drops from the journal what no longer needs starting:
// objects gone, running, or that the plan does not start (their entry now
// keeps them stopped, or deletes them). An object that cannot be planned
// keeps its entry.
func forgetFinished(st *State, uri string, ps []*planned) error {
	if st == nil {
		return nil
	}
	return st.keepStops(uri, func(e Stopped) bool {
		for _, c := range ps {
			if c.Kind == e.Kind && c.live != nil && canonicalUUID(c.live.UUID) == canonicalUUID(e.UUID) && !c.live.Active {
				return c.Problem != nil || c.has(Start)
			}
		}
		return false
	})
}

// forURI narrows the options to one connection: pruning covers only the
// kinds it manages, for the configuration's owner, and gives a pruned
// domain whose entry's timeout nixvirt did not record the connection's
// shutdown timeout.
func (o Options) forURI(d *Desired, uri string) Options {
	if m, ok := d.Managed[uri]; ok {
		o.managed = m
	}
	o.owner = ownerOrDefault(d.Owner)
	o.pruneTimeout = d.ShutdownTimeout[uri]
	return o
}
