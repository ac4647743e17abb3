package apply

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/apply/live"
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
	// RestartResumed shuts down and starts again a domain that the start
	// before it resumed from its managed save image: the saved guest runs
	// with the definition it was saved with, and takes its new one only
	// when it restarts (the restart policy decides, as for a running one).
	RestartResumed Action = "restart-resumed"
	// RefreshPool rescans a running pool's volumes (virStoragePoolRefresh)
	// before the volumes it lists as missing are created; the pool keeps
	// running.
	RefreshPool Action = "refresh-pool"
	Delete      Action = "delete"
)

// ReasonCode says why an action is planned. The renderers word it.
type ReasonCode string

const (
	// ReasonActive: the entry says active (true for start, false for stop).
	ReasonActive ReasonCode = "active"
	// ReasonAutostart: the entry's autostart differs from libvirt's flag.
	ReasonAutostart ReasonCode = "autostart"
	// ReasonRestartTrue: the entry says restart: true.
	ReasonRestartTrue ReasonCode = "restart-true"
	// ReasonDefinitionChanged: the definition nixvirt gave last time
	// differs from the configuration's.
	ReasonDefinitionChanged ReasonCode = "definition-changed"
	// ReasonTakeOverDiffers: nixvirt did not define the object, and its
	// definition differs from the configuration's.
	ReasonTakeOverDiffers ReasonCode = "take-over-differs"
	// ReasonTakeOverIdentical: nixvirt did not define the object, which
	// is identical to the configuration's.
	ReasonTakeOverIdentical ReasonCode = "take-over-identical"
	// ReasonDrifted: the configuration did not change, but the definition
	// libvirt stores did since nixvirt defined it (virsh edit): the
	// configuration's is put back.
	ReasonDrifted ReasonCode = "drifted"
	// ReasonWrittenOtherwise: the definition is written otherwise than
	// nixvirt recorded it but says what the live one does.
	ReasonWrittenOtherwise ReasonCode = "written-otherwise"
	// ReasonRenamed: same UUID, another name (Name is the old one).
	ReasonRenamed ReasonCode = "renamed"
	// ReasonBeforeDelete: an object stops before it is deleted.
	ReasonBeforeDelete ReasonCode = "before-delete"
	// ReasonPresentFalse: the entry says present: false.
	ReasonPresentFalse ReasonCode = "present-false"
	// ReasonLeftConfiguration: nixvirt defined the object and it left
	// the configuration (pruning).
	ReasonLeftConfiguration ReasonCode = "left-configuration"
	// ReasonMissing: a volume does not exist.
	ReasonMissing ReasonCode = "missing"
	// ReasonForVolumes: a pool starts so that its volumes can be created.
	ReasonForVolumes ReasonCode = "for-volumes"
	// ReasonPoolStopped: the pool is stopped, so its volumes cannot be
	// listed; the volume is created if missing (deleted if present) once
	// the pool runs.
	ReasonPoolStopped ReasonCode = "pool-stopped"
	// ReasonResumesSaved: the domain has a managed save image (its saved
	// memory, with the definition it was saved with) and its definition
	// changes: started, the guest resumes as it was saved, and has its new
	// definition only once it restarts.
	ReasonResumesSaved ReasonCode = "resumes-saved"
	// ReasonBeforeVolumes: a running pool is rescanned before the volumes
	// it lists as missing are created: libvirt lists what it last
	// scanned, and a volume put in the pool since is found, and kept,
	// rather than created over.
	ReasonBeforeVolumes ReasonCode = "before-volumes"
	// ReasonVolumeFound: (apply) a volume planned as missing was there
	// when the pool was listed again, after its refresh: it is kept as it
	// is, never overwritten.
	ReasonVolumeFound ReasonCode = "volume-found"
	// ReasonAttachedDomain: a running domain (Name) attached to a network
	// that restarts is stopped and started around it.
	ReasonAttachedDomain ReasonCode = "attached-domain"
	// ReasonAttachedUnownedDomain: as ReasonAttachedDomain, for a domain
	// nixvirt did not define (it is not listed as left alone).
	ReasonAttachedUnownedDomain ReasonCode = "attached-unowned-domain"
	// ReasonUnfinished: an earlier apply stopped the object to start it
	// again (a restart, or a network's restart) and did not finish: it is
	// started again.
	ReasonUnfinished ReasonCode = "unfinished"
	// ReasonNeedsRestart: a change of the running object's definition
	// needs a restart (its Parts of class restart say which and why).
	ReasonNeedsRestart ReasonCode = "needs-restart"
	// ReasonLiveRefused: libvirt refused a live change (Name is its path,
	// Detail libvirt's reason); it falls back to the restart policy.
	ReasonLiveRefused ReasonCode = "live-refused"
	// ReasonPendingRelease: a device (Name) left the definition and the
	// running guest has yet to release it.
	ReasonPendingRelease ReasonCode = "pending-release"
	// ReasonTakenFromOwner: --take-over moves the object from another
	// owner (Name) to this configuration's.
	ReasonTakenFromOwner ReasonCode = "taken-from-owner"
)

// Reason is why an action is planned.
type Reason struct {
	Code ReasonCode
	// Name is the old name for ReasonRenamed, the domain for
	// ReasonAttachedDomain, and the changed part for ReasonLiveRefused and
	// ReasonPendingRelease.
	Name string
	// Detail is libvirt's reason, for ReasonLiveRefused.
	Detail string
}

// Step is an action with the reasons it is planned and the details it
// needs.
type Step struct {
	Action  Action
	Reasons []Reason
	// On is the setting, for Autostart.
	On *bool
	// Volume names the volume, for CreateVolume and DeleteVolume.
	Volume string
	// DeleteNvram and DeleteTPM: a domain's Delete also removes its NVRAM
	// and TPM state (its disks are always kept).
	DeleteNvram, DeleteTPM bool
	// Capacity is the new capacity in bytes, for GrowVolume.
	Capacity uint64
	// Content says where a volume's content comes from, for CreateVolume
	// and ReplaceVolume.
	Content string
	// Timeout is the seconds WaitAddress waits at most; Addresses are
	// what it found (in an apply's outcome).
	Timeout   int
	Addresses []InterfaceAddresses
}

// ProblemCode says why an object cannot be planned.
type ProblemCode string

const (
	// ProblemNameTaken: another object of that name exists, with another
	// UUID (Detail); Holder says whose it is.
	ProblemNameTaken ProblemCode = "name-taken"
	// ProblemNotOwned: present: false names an object nixvirt did not
	// define (or a copy of one); Detail is the owner of another owner's
	// object.
	ProblemNotOwned ProblemCode = "not-owned"
	// ProblemOtherOwner: the object belongs to another owner (Detail),
	// and --take-over does not move it.
	ProblemOtherOwner ProblemCode = "other-owner"
	// ProblemOtherStateDir: a pool or secret another state directory
	// (Detail) records under this configuration's own owner name
	// (claims.go): another configuration's, or this one's old directory.
	ProblemOtherStateDir ProblemCode = "other-state-dir"
	// ProblemManagedSave: the domain has a managed save image (its saved
	// memory), which deleting or renaming it (Detail: "delete" or
	// "rename") would lose.
	ProblemManagedSave ProblemCode = "managed-save"
	// ProblemRenameNeedsRestart: a running object would be renamed, and
	// restart: false forbids the restart that needs (Detail: its name).
	ProblemRenameNeedsRestart ProblemCode = "rename-needs-restart"
	// ProblemVolumesNeedActivePool: volumes are to be created in a pool
	// that active: false keeps stopped.
	ProblemVolumesNeedActivePool ProblemCode = "volumes-need-active-pool"
	// ProblemListVolumes: libvirt could not list a pool's volumes
	// (Detail: its message).
	ProblemListVolumes ProblemCode = "list-volumes"
)

// Problem is why an object cannot be planned; nothing is done to it.
type Problem struct {
	Code   ProblemCode
	Detail string
	// Holder is who owns the object that is in the entry's way (the one
	// with its name, or a secret with its usage): nil when nixvirt did not
	// define it.
	Holder *Holder
	// Usage is the secret's usage ("ceph client.web"), for usage-taken.
	Usage string
}

// Holder is who owns an object that keeps an entry from being planned.
type Holder struct {
	// Owner is the configuration that defined it (its mark's owner, or
	// the owner a state directory records for a pool or secret).
	Owner string
	// StateDir is another state directory that claims it (claims.go),
	// "" when none does.
	StateDir string
	// Own: it is this configuration's: its owner's, in this state
	// directory.
	Own bool
	// Name is the entry a secret of this state directory was recorded
	// for (libvirt secrets have no name), "" otherwise.
	Name string
}

// holderOfProblem is who owns an object in an entry's way, as a problem
// words it; nil for one nixvirt did not define (or a copy).
func (o Options) holderOfProblem(hd holder) *Holder {
	switch {
	case o.mine(hd):
		return &Holder{Owner: hd.owner, Own: true}
	case o.anotherOwners(hd):
		return &Holder{Owner: hd.owner, StateDir: hd.elsewhere}
	}
	return nil
}

// Change is what happens to one object; no actions means nothing.
type Change struct {
	Connection string
	Kind       compiler.Kind
	Name       string
	UUID       string
	Actions    []Step
	// Before and After are the normalized definitions, when it changes.
	Before, After, Diff string
	// Problem is why the object cannot be planned; nil when it can.
	Problem *Problem
	// VolumeProblems are why volumes of a pool cannot be planned; the
	// pool and its other volumes can.
	VolumeProblems []VolumeProblem
	// Parts are the differences of a running domain's or network's
	// definition, classified live, next boot or restart; for an object
	// whose definition does not change, what its running object still
	// lacks until it restarts (all pending).
	Parts []Part
}

func (c *Change) has(a Action) bool {
	for _, s := range c.Actions {
		if s.Action == a {
			return true
		}
	}
	return false
}

func (c *Change) add(a Action, reasons ...Reason) {
	c.Actions = append(c.Actions, Step{Action: a, Reasons: reasons})
}

func (c *Change) fail(code ProblemCode, detail string) {
	c.Problem = &Problem{Code: code, Detail: detail}
	c.Actions = nil
}

func because(code ReasonCode) Reason { return Reason{Code: code} }

// Plan is what apply does to the hosts of a configuration.
type Plan struct {
	Changes []*Change
	// Unmanaged are objects on the hosts that nixvirt did not define and
	// that the configuration does not name: they are never touched.
	Unmanaged []Unmanaged
	// Kept are the objects the configuration's owner has of the kinds a
	// connection leaves out, which are kept (a kind left out is left
	// alone); one per connection and kind.
	Kept []Kept
	// Errors are connections that could not be planned.
	Errors []string
}

// Kept are the objects of one kind that a configuration owns on a
// connection and keeps because it leaves the kind out (no pools key at
// all, or null): a kind left out is left alone, never pruned.
type Kept struct {
	Connection string
	Kind       compiler.Kind
	// Names are the objects' names, sorted (a secret's, its entry's).
	Names []string
}

// leftAlone is what a connection's plan leaves alone: the objects nixvirt
// does not own and the configuration does not name, and the owned ones of
// the kinds it leaves out.
type leftAlone struct {
	unmanaged []Unmanaged
	kept      []Kept
}

// Unmanaged is an object nixvirt leaves alone.
type Unmanaged struct {
	Connection string
	Kind       compiler.Kind
	Name       string
	// Owner is the configuration that owns it; "" when nixvirt did not
	// define it or it is a copy.
	Owner string
	// CopyOf is the UUID its mark names, when it is a copy of an object
	// nixvirt defined (with that mark's owner, Owner is "").
	CopyOf string
}

// Counts are the plan's summary in terraform's sense, counting objects,
// not actions: an object created (a volume too) is one to add, one
// deleted one to destroy, and one with any other action one to change,
// however many actions it has (a redefine and its restart are one
// change).
func (p *Plan) Counts() (add, change, destroy int) {
	for _, c := range p.Changes {
		a, ch, d := c.counts()
		add, change, destroy = add+a, change+ch, destroy+d
	}
	return
}

func (c *Change) counts() (add, change, destroy int) {
	self := false
	for _, s := range c.Actions {
		switch s.Action {
		case CreateVolume:
			add++
		case DeleteVolume, DeleteSeed:
			destroy++
		case RefreshPool:
			// Part of creating the volumes it comes before.
		default:
			self = true
		}
	}
	switch {
	case !self:
	case c.has(Create):
		add++
	case c.has(Delete):
		destroy++
	default:
		change++
	}
	return
}

// Problems counts the objects that cannot be planned: apply leaves them
// alone and fails for each.
func (p *Plan) Problems() int {
	n := 0
	for _, c := range p.Changes {
		if c.Problem != nil {
			n++
		}
		// A pool's volumes that cannot be planned fail its apply too.
		n += len(c.VolumeProblems)
	}
	return n
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
	// TakeOver moves the objects the configuration names from another
	// owner to this one; without it they are left alone.
	TakeOver bool
	// owner is the configuration's (Desired.Owner), and pruneTimeout the
	// shutdown timeout of the connection being planned: what a pruned
	// domain is given to shut down when nixvirt has no record of its
	// entry's (State.recordedTimeout).
	owner        string
	pruneTimeout int
	// managed are the kinds pruning covers on the connection being
	// planned; nil is all.
	managed map[compiler.Kind]bool
}

// planned is a change with what executing it needs, which is not part of
// the plan: the wanted definition, the live object, and the running
// domains attached to a network that restarts.
type planned struct {
	*Change
	wanted *Wanted // nil for a deletion
	live   *Live   // nil for a creation
	// dependents are the running domains to stop and start around a
	// network restart.
	dependents []Stopped
	// timeout is the shutdown timeout of a domain that stops.
	timeout int
	// needsRecord: nixvirt owns the object, which does not change, and
	// has no record of what libvirt stored for it (drift.go): apply
	// records what libvirt has.
	needsRecord bool
	// liveOps are the live changes apply makes before it defines the new
	// definition; facts what the restart policy decided from, for a live
	// change that libvirt refuses.
	liveOps []live.Change
	facts   restartFacts
	// reattach: the dependents keep running and their interfaces are
	// re-attached after the network restarts (reattach.go).
	reattach bool
	// previous is the definition nixvirt gave the object last time, ""
	// when it has none.
	previous string
	// seeds are the cloud-init seed volumes deleted with a domain
	// (seedprune.go).
	seeds []seedRemoval
}

// planConnection plans one host.
func planConnection(h Host, wanted []*Wanted, opts Options) ([]*planned, leftAlone, error) {
	uri := h.URI()
	// nixvirt's records are read while the host is listed: the listing is
	// mostly waiting for libvirtd.
	stateErr := make(chan error, 1)
	go func() {
		err := opts.State.check(uri)
		if err == nil {
			err = opts.State.checkDefined(uri)
		}
		if err == nil {
			err = opts.State.claimRecorded(uri)
		}
		stateErr <- err
	}()
	live, err := listHost(h)
	if err := <-stateErr; err != nil {
		return nil, leftAlone{}, err
	}
	if err != nil {
		return nil, leftAlone{}, err
	}
	nameSecrets(opts.State, uri, live[compiler.KindSecret])
	var changes []*planned
	seen := map[string]bool{}
	// blocking are the objects that keep an entry from being planned (its
	// name is theirs): never pruned in the same plan, which would make it
	// say both that the entry cannot be planned and that they go.
	blocking := map[string]bool{}
	for _, w := range wanted {
		c := planObject(uri, w, live[w.Kind], opts)
		planRunningDrift(h, c)
		planPending(h, c)
		planResumedRestart(h, c)
		planPoolParts(h, c)
		if c.live != nil {
			seen[string(w.Kind)+"/"+c.live.UUID] = true
		}
		// An entry that cannot be planned still claims its object: a
		// secret's value file missing for a moment, or an unset variable,
		// must never make apply delete what the entry names.
		if w.UUID != "" {
			seen[string(w.Kind)+"/"+canonicalUUID(w.UUID)] = true
		}
		if c.Problem != nil && (c.Problem.Code == ProblemNameTaken || c.Problem.Code == ProblemUsageTaken) {
			blocking[string(w.Kind)+"/"+c.Problem.Detail] = true
		}
		if w.Kind == compiler.KindPool && c.Problem == nil && !w.Absent {
			planVolumes(h, c, w, opts.State)
		}
		changes = append(changes, c)
	}
	prunes := func(k compiler.Kind, l *Live) bool {
		return opts.mine(holderOf(k, l, opts.State, uri)) && opts.Prune && (opts.managed == nil || opts.managed[k]) && !blocking[string(k)+"/"+l.UUID]
	}
	unfinished, err := opts.State.Unfinished(uri)
	if err != nil {
		return nil, leftAlone{}, err
	}
	changes = planUnfinished(uri, unfinished, changes, live, seen, prunes)
	touched := planNetworkDependents(changes, live[compiler.KindDomain], func(l *Live) bool { return opts.mine(holderOf(compiler.KindDomain, l, opts.State, uri)) })
	for _, c := range changes {
		planWait(c)
	}
	planReattach(h, changes)

	var unmanaged []Unmanaged
	kept := map[compiler.Kind][]string{}
	for _, k := range compiler.StopOrder {
		for i := range live[k] {
			l := &live[k][i]
			if seen[string(k)+"/"+l.UUID] || seen[string(k)+"/"+canonicalUUID(l.UUID)] {
				continue
			}
			hd := holderOf(k, l, opts.State, uri)
			if !opts.mine(hd) {
				// One a network restart stops is not left alone: the
				// network's step says so.
				if !touched[canonicalUUID(l.UUID)] {
					u := Unmanaged{Connection: uri, Kind: k, Name: l.Name, CopyOf: hd.copyOf}
					if hd.marked && hd.copyOf == "" {
						u.Owner = hd.owner
					}
					unmanaged = append(unmanaged, u)
				}
				continue
			}
			if !prunes(k, l) {
				if opts.managed != nil && !opts.managed[k] {
					kept[k] = append(kept[k], l.Name)
				}
				continue
			}
			c := &planned{Change: &Change{Connection: uri, Kind: k, Name: l.Name, UUID: l.UUID}, live: l, timeout: opts.pruneTimeout}
			if t, ok := opts.State.recordedTimeout(uri, l.UUID, hd.hash); ok && k == compiler.KindDomain {
				// Its entry's, as nixvirt last recorded it; else the
				// connection's.
				c.timeout = t
			}
			if l.Active {
				c.add(Stop, because(ReasonBeforeDelete))
			}
			c.add(Delete, because(ReasonLeftConfiguration))
			c.Before = readable(k, l.XML)
			changes = append(changes, c)
		}
	}
	if err := keepManagedSaves(h, changes); err != nil {
		return nil, leftAlone{}, err
	}
	if err := planSavedGuests(h, changes); err != nil {
		return nil, leftAlone{}, err
	}
	planSeedRemovals(h, changes, live[compiler.KindPool], wanted, opts.State)
	left := leftAlone{unmanaged: unmanaged}
	for _, k := range compiler.TopLevelKinds {
		if names := kept[k]; len(names) > 0 {
			sort.Strings(names)
			left.kept = append(left.kept, Kept{Connection: uri, Kind: k, Names: names})
		}
	}
	return changes, left, nil
}

// runningLister is a Host that reads the running definitions of marked
// objects with its list (libvirtHost.ListWithRunning).
type runningLister interface {
	ListWithRunning(k compiler.Kind) ([]Live, error)
}

// listHost lists every kind of object of a host, the kinds at once: each
// list is mostly waiting for libvirtd's answers.
func listHost(h Host) (map[compiler.Kind][]Live, error) {
	list := h.List
	if rl, ok := h.(runningLister); ok {
		list = rl.ListWithRunning
	}
	lives := make([][]Live, len(compiler.TopLevelKinds))
	errs := make([]error, len(compiler.TopLevelKinds))
	var wg sync.WaitGroup
	for i, k := range compiler.TopLevelKinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lives[i], errs[i] = list(k)
		}()
	}
	wg.Wait()
	out := map[compiler.Kind][]Live{}
	for i, k := range compiler.TopLevelKinds {
		if errs[i] != nil {
			return nil, fmt.Errorf("%s: cannot list %s: %s", h.URI(), k.Plural(), libvirtMessage(errs[i]))
		}
		out[k] = lives[i]
	}
	return out, nil
}

// planAbsent plans an entry with present: false.
func planAbsent(uri string, w *Wanted, live []Live, opts Options) *planned {
	c := &planned{Change: &Change{Connection: uri, Kind: w.Kind, Name: w.Name}, timeout: w.ShutdownTimeout}
	for i := range live {
		if live[i].Name != w.Name {
			continue
		}
		l := &live[i]
		c.UUID, c.live = canonicalUUID(l.UUID), l
		if hd := holderOf(w.Kind, l, opts.State, uri); !opts.mine(hd) {
			detail := ""
			if opts.anotherOwners(hd) {
				detail = hd.owner
			}
			c.fail(ProblemNotOwned, detail)
			return c
		}
		if l.Active {
			c.add(Stop, because(ReasonBeforeDelete))
		}
		c.Actions = append(c.Actions, Step{Action: Delete, Reasons: []Reason{because(ReasonPresentFalse)},
			DeleteNvram: w.Kind == compiler.KindDomain && !w.KeepNvram, DeleteTPM: w.Kind == compiler.KindDomain && !w.KeepTPM})
		c.Before = readable(w.Kind, l.XML)
	}
	return c
}

func planObject(uri string, w *Wanted, live []Live, opts Options) *planned {
	if w.Absent {
		return planAbsent(uri, w, live, opts)
	}
	if w.Kind == compiler.KindSecret {
		return planSecret(uri, w, live, opts)
	}
	c := &planned{Change: &Change{Connection: uri, Kind: w.Kind, Name: w.Name, UUID: w.UUID}, wanted: w, timeout: w.ShutdownTimeout}
	var l *Live
	for i := range live {
		if canonicalUUID(live[i].UUID) == w.UUID {
			l = &live[i]
		}
	}
	if l == nil {
		for i := range live {
			if live[i].Name == w.Name {
				c.fail(ProblemNameTaken, live[i].UUID)
				c.Problem.Holder = opts.holderOfProblem(holderOf(w.Kind, &live[i], opts.State, uri))
				return c
			}
		}
		c.add(Create)
		c.After = readable(w.Kind, w.Definition)
		if w.Active != nil && *w.Active {
			c.add(Start, because(ReasonActive))
		}
		if w.Autostart != nil && *w.Autostart {
			c.Actions = append(c.Actions, Step{Action: Autostart, On: w.Autostart, Reasons: []Reason{because(ReasonAutostart)}})
		}
		return c
	}
	c.live = l
	hd := holderOf(w.Kind, l, opts.State, uri)
	if opts.anotherOwners(hd) && !opts.TakeOver {
		c.fail(opts.otherOwnerProblem(hd))
		return c
	}
	isOwned := opts.mine(hd)
	// previous is the definition nixvirt gave the object last time.
	var prevHash, previous string
	switch {
	case !w.Kind.HasMetadata() && isOwned:
		prevHash, previous = opts.State.poolAsRecorded(uri, l)
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
		if changed && w.Kind.HasMetadata() && (equivalent(w.Kind, previous, w.Definition) || equivalent(w.Kind, l.XML, w.UserXML)) {
			// Written otherwise (an import of the live definition), the
			// same in effect: only nixvirt's record changes, nothing restarts.
			c.add(Refresh, because(ReasonWrittenOtherwise))
			changed = false
		}
	default:
		// Taking an object over: only a definition that says what the
		// live one does, both ways, is identical. One the live definition
		// has more than (a data disk the configuration leaves out) is a
		// redefine, with a diff that shows what goes.
		changed = !equivalent(w.Kind, l.XML, w.UserXML) && !(opts.anotherOwners(hd) && hd.hash == w.Hash)
	}
	// Drift: the configuration did not change, but libvirt's definition did.
	var drifted bool
	var driftedFrom, driftedTo string
	if isOwned && !renamed && !changed && !c.has(Refresh) {
		drifted, driftedFrom, driftedTo, c.needsRecord = planDrift(uri, opts.State, w.Kind, l, prevHash)
		changed = drifted
		if w.Kind == compiler.KindDomain && !c.needsRecord {
			// The record keeps the entry's shutdown timeout, which the
			// domain is given if it is pruned: one changed without a new
			// definition is recorded (a state write, no libvirt write).
			if t, ok := opts.State.recordedTimeout(uri, l.UUID, prevHash); !ok || t != w.ShutdownTimeout {
				c.needsRecord = true
			}
		}
	}
	if !w.Kind.HasMetadata() && isOwned && !changed && !sameAsDefined(w.Kind, l.XML, w.UserXML) {
		// Pools have no mark to keep in step: compare what libvirt has.
		changed = true
	}
	if renamed {
		c.add(Rename, Reason{Code: ReasonRenamed, Name: l.Name})
	}
	switch {
	case drifted:
		c.add(Redefine, because(ReasonDrifted))
	case changed && isOwned:
		c.add(Redefine, because(ReasonDefinitionChanged))
	case changed:
		c.add(Redefine, because(ReasonTakeOverDiffers))
	case !isOwned:
		c.add(Adopt, because(ReasonTakeOverIdentical))
	}
	if opts.anotherOwners(hd) {
		takenFrom(c.Change, hd.owner)
	}
	if renamed && c.has(Refresh) {
		// A rename writes the definition anyway.
		c.Actions = removeStep(c.Actions, Refresh)
	}
	if drifted {
		c.Before, c.After = driftedFrom, driftedTo
		c.Diff = unifiedDiff("live (changed outside nixvirt)", "as nixvirt defined it", c.Before, c.After)
	} else if changed || renamed {
		before := l.XML
		if previous != "" {
			before = previous
		}
		c.Before = readable(w.Kind, before)
		c.After = readable(w.Kind, w.Definition)
		c.Diff = unifiedDiff("current", "wanted", c.Before, c.After)
	}
	c.previous = previous
	stays := w.Active == nil || *w.Active
	var parts []liveChange
	c.facts = restartFacts{Kind: w.Kind, Running: l.Active && stays, Restart: w.Restart,
		Renamed: renamed, Changed: changed, Drifted: drifted, Owned: isOwned}
	if changed {
		parts, c.facts.Class = classify(liveFacts{Kind: w.Kind, Live: w.Live, Owned: isOwned, Renamed: renamed,
			Running: l.Active && stays, Restart: w.Restart, Previous: previous, Wanted: w.Definition})
	}
	if why, ok := restartPolicy(c.facts); ok {
		c.add(Restart, because(why))
	}
	if parts != nil {
		planLive(c, parts)
	}
	if renamed && l.Active && !c.has(Restart) && stays && w.Kind.Info().RestartsForChange {
		c.fail(ProblemRenameNeedsRestart, l.Name)
		return c
	}
	if w.Active != nil && *w.Active && !l.Active {
		c.add(Start, because(ReasonActive))
	}
	if w.Active != nil && !*w.Active && l.Active {
		c.add(Stop, because(ReasonActive))
	}
	if w.Autostart != nil && *w.Autostart != l.Autostart {
		c.Actions = append(c.Actions, Step{Action: Autostart, On: w.Autostart, Reasons: []Reason{because(ReasonAutostart)}})
	}
	return c
}

// restartFacts are what the restart policy decides from.
type restartFacts struct {
	Kind compiler.Kind
	// Running: the object runs and the entry does not stop it.
	Running bool
	// Restart is the entry's restart: true, false or nil (null).
	Restart *bool
	// Renamed, Changed: its name or its definition changes; Drifted: the
	// change is libvirt's definition, edited outside nixvirt; Owned:
	// nixvirt defined it.
	Renamed, Changed, Drifted, Owned bool
	// Class is the highest class of the changes of its definition (live,
	// next boot, restart), 0 when they are not classified: then any
	// change restarts.
	Class live.Class
}

// restartPolicy decides whether a running object restarts, and why:
// restart: true always; restart: false never; otherwise an object of a
// kind that restarts for a change (a domain, a network; not a pool, see
// compiler.KindInfo) restarts when it is renamed or its definition
// changes, unless every change is live or for the next boot. A rename
// happens with restart: true or null only.
func restartPolicy(f restartFacts) (ReasonCode, bool) {
	if !f.Running {
		return "", false
	}
	if f.Restart != nil {
		if *f.Restart {
			return ReasonRestartTrue, true
		}
		return "", false
	}
	if !f.Kind.Info().RestartsForChange {
		return "", false
	}
	switch {
	case f.Renamed:
		return ReasonRenamed, true
	case f.Drifted:
		return ReasonDrifted, true
	case f.Changed && f.Owned && (f.Class == live.Live || f.Class == live.NextBoot):
		return "", false
	case f.Changed && f.Owned && f.Class == live.Restart:
		return ReasonNeedsRestart, true
	case f.Changed && f.Owned:
		return ReasonDefinitionChanged, true
	case f.Changed:
		return ReasonTakeOverDiffers, true
	}
	return "", false
}

// planVolumes adds the volume steps of a pool: create when missing, delete
// only with present: false; an existing volume is never overwritten.
//
// A stopped pool lists no volumes. One that stays stopped (active: false,
// or null: a pool the admin stopped is left stopped) is planned without
// its volumes, which apply cannot see either; one that starts has them
// planned "if missing" (or "if present"), as apply checks again once it
// runs. Only a pool that does not exist yet starts for its volumes.
func planVolumes(h Host, c *planned, w *Wanted, st *State) {
	existing := map[string]bool{}
	live := map[string]LiveVolume{}
	unknown := false
	switch {
	case c.live != nil && c.live.Active:
		vols, err := h.Volumes(c.live.Name)
		if err != nil {
			c.fail(ProblemListVolumes, libvirtMessage(err))
			return
		}
		for _, v := range vols {
			existing[v.Name] = true
			live[v.Name] = v
		}
	case c.live != nil && !c.has(Start):
		return
	case c.live != nil:
		unknown = true
	}
	needed := false
	for _, v := range w.Volumes {
		switch {
		case v.Present && unknown:
			c.Actions = append(c.Actions, Step{Action: CreateVolume, Volume: v.Name, Reasons: []Reason{because(ReasonPoolStopped)}})
		case !v.Present && unknown:
			c.Actions = append(c.Actions, Step{Action: DeleteVolume, Volume: v.Name, Reasons: []Reason{because(ReasonPoolStopped)}})
		case v.Present && !existing[v.Name]:
			c.Actions = append(c.Actions, Step{Action: CreateVolume, Volume: v.Name, Content: contentText(v), Reasons: []Reason{because(ReasonMissing)}})
			needed = true
		case v.Present:
			planVolume(c.Connection, c, v, live[v.Name], st)
		case !v.Present && existing[v.Name]:
			c.Actions = append(c.Actions, Step{Action: DeleteVolume, Volume: v.Name, Reasons: []Reason{because(ReasonPresentFalse)}})
		}
	}
	if needed && c.live != nil && c.live.Active {
		insertBeforeVolumes(c.Change, Step{Action: RefreshPool, Reasons: []Reason{because(ReasonBeforeVolumes)}})
	}
	if needed && c.live == nil && !c.has(Start) {
		if w.Active != nil && !*w.Active {
			c.fail(ProblemVolumesNeedActivePool, "")
			return
		}
		c.add(Start, because(ReasonForVolumes))
	}
}

// insertBeforeVolumes puts s before the first volume step of c.
func insertBeforeVolumes(c *Change, s Step) {
	for i, x := range c.Actions {
		switch x.Action {
		case CreateVolume, DeleteVolume, ReplaceVolume, GrowVolume:
			c.Actions = append(c.Actions[:i], append([]Step{s}, c.Actions[i:]...)...)
			return
		}
	}
	c.Actions = append(c.Actions, s)
}

// planNetworkDependents finds the running domains attached to a network
// that restarts: they stop before and start after it. It returns their
// UUIDs; a domain nixvirt does not own is named as such in the reason.
func planNetworkDependents(changes []*planned, domains []Live, owned func(*Live) bool) map[string]bool {
	stopping := map[string]bool{}
	for _, c := range changes {
		if c.Kind == compiler.KindDomain && (c.has(Stop) || c.has(Restart) || c.has(Delete)) {
			stopping[c.UUID] = true
		}
	}
	touched := map[string]bool{}
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
		for i := range domains {
			d := &domains[i]
			if !d.Active || stopping[canonicalUUID(d.UUID)] || !attached(d.XML, c.live.Name, bridge) {
				continue
			}
			c.dependents = append(c.dependents, Stopped{Kind: compiler.KindDomain, UUID: d.UUID, Name: d.Name, For: StoppedForNetwork, Network: c.live.Name})
			touched[canonicalUUID(d.UUID)] = true
			code := ReasonAttachedDomain
			if !owned(d) {
				code = ReasonAttachedUnownedDomain
			}
			last := &c.Actions[len(c.Actions)-1]
			last.Reasons = append(last.Reasons, Reason{Code: code, Name: d.Name})
		}
	}
	return touched
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
func sortChanges(cs []*planned) {
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Kind.Order() < cs[j].Kind.Order() })
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
