package apply

import (
	"fmt"
	"time"

	"libvirt.org/go/libvirt"

	"nixvirt.dev/nixvirt/apply/live"
	"nixvirt.dev/nixvirt/compiler"
)

// keepManagedSaves refuses to delete or rename a domain that has a
// managed save image: libvirt deletes the image (the guest's saved memory)
// with the definition, and renaming is done by undefining the old name.
// nixvirt never deletes one, so the object is refused with what to do,
// and plan says so before apply.
func keepManagedSaves(h Host, changes []*planned) error {
	for _, c := range changes {
		if c.Kind != compiler.KindDomain || c.live == nil || c.Problem != nil || c.live.Active {
			// A running domain has no managed save image: starting it
			// consumed the image.
			continue
		}
		op := ""
		switch {
		case c.has(Delete):
			op = "delete"
		case c.has(Rename):
			// The name it has now, which virsh knows it by.
			op = "rename:" + c.live.Name
		default:
			continue
		}
		has, err := h.HasManagedSave(c.live.UUID)
		if err != nil {
			return fmt.Errorf("%s: domain %q: cannot tell whether it has a managed save image: %s", h.URI(), c.live.Name, libvirtMessage(err))
		}
		if has {
			c.fail(ProblemManagedSave, op)
		}
	}
	return nil
}

// planSavedGuests plans the redefinition of a stopped domain that has a
// managed save image. libvirt resumes such a guest from the image with
// the definition it was saved with, whatever the definition says now, so
// the saved guest is treated as a running one: a start that apply makes
// resumes it and, when the restart policy restarts a running guest for
// the change (restart: null and a change that needs it, or restart:
// true), restarts it after (RestartResumed) so that it takes the new
// definition; otherwise the change waits for its next restart, shown as
// pending. A domain apply does not start is told to resume with its old
// definition when someone starts it. The image itself is never deleted.
func planSavedGuests(h Host, changes []*planned) error {
	for _, c := range changes {
		if c.Kind != compiler.KindDomain || c.live == nil || c.live.Active || c.Problem != nil || c.wanted == nil || !c.has(Redefine) {
			continue
		}
		has, err := h.HasManagedSave(c.live.UUID)
		if err != nil {
			return fmt.Errorf("%s: domain %q: cannot tell whether it has a managed save image: %s", h.URI(), c.live.Name, libvirtMessage(err))
		}
		if !has {
			continue
		}
		if !c.has(Start) {
			addReason(c.Change, Redefine, because(ReasonResumesSaved))
			continue
		}
		addReason(c.Change, Start, because(ReasonResumesSaved))
		w := c.wanted
		// As planObject classifies the change of a running guest; but no
		// live change is made to a saved one, so each part waits.
		f := c.facts
		f.Running = true
		var cs []live.Change
		cs, f.Class = classify(liveFacts{Kind: c.Kind, Live: w.Live, Owned: f.Owned, Renamed: f.Renamed, Running: true,
			Restart: w.Restart, Previous: c.previous, Wanted: w.Definition})
		why, restarts := restartPolicy(f)
		c.Parts = partsOf(cs, restarts)
		for i := range c.Parts {
			c.Parts[i].Pending = !restarts
			if !restarts && c.Parts[i].Class == live.Live {
				c.Parts[i].Reason = "a guest resumed from its managed save image is not changed live"
			}
		}
		if restarts {
			c.insertAfter(Start, Step{Action: RestartResumed, Reasons: []Reason{because(why)}})
		}
	}
	return nil
}

// addReason adds r to the reasons of c's step of action a.
func addReason(c *Change, a Action, r Reason) {
	for i := range c.Actions {
		if c.Actions[i].Action == a {
			c.Actions[i].Reasons = append(c.Actions[i].Reasons, r)
			return
		}
	}
}

// restartResumed shuts down the guest that its start resumed from a
// managed save image and starts it again with its new definition; the
// journal has it in between, so that a killed apply starts it again.
func (ex *executor) restartResumed(c *planned) {
	dom := Stopped{Kind: c.Kind, UUID: c.UUID, Name: c.wanted.Name, For: StoppedToRestart}
	if err := ex.st.beginStops(ex.h.URI(), dom); err != nil {
		ex.fail(c, "record what it stops in the journal", err)
		return
	}
	if err := ex.waitStop(c, "", c.Kind, c.UUID, time.Duration(c.timeout)*time.Second); err != nil {
		ex.fail(c, "stop, to restart the resumed guest", err)
		return
	}
	if err := ex.h.Start(c.Kind, c.UUID); err != nil {
		ex.fail(c, "start, after stopping the resumed guest", startHint(err))
		return
	}
	ex.endStop(c, c.Kind, c.UUID)
	ex.note(c, Step{Action: RestartResumed})
}

// resumedHost is a Host that tells whether a running domain was resumed
// from a saved state (its managed save image) rather than booted.
type resumedHost interface {
	Resumed(uuid string) (bool, error)
}

// Resumed reports whether libvirt says the running domain was restored
// from a state file.
func (h *libvirtHost) Resumed(uuid string) (bool, error) {
	d, err := h.conn.LookupDomainByUUIDString(uuid)
	if err != nil {
		return false, err
	}
	defer d.Free()
	state, reason, err := d.GetState()
	if err != nil {
		return false, err
	}
	return state == libvirt.DOMAIN_RUNNING && libvirt.DomainRunningReason(reason) == libvirt.DOMAIN_RUNNING_RESTORED, nil
}

// planResumedRestart restarts, with restart: null, a running domain that
// was resumed from its managed save image (started outside nixvirt after
// nixvirt redefined it) and runs without a restart-class part of its
// definition: the restart that change needs was never made. A guest that
// booted is not restarted for a pending part (restart: false held it
// back, or libvirt reports it otherwise), and once restarted a guest has
// booted, so this happens once.
func planResumedRestart(h Host, c *planned) {
	if c.Kind != compiler.KindDomain || c.wanted == nil || c.wanted.Restart != nil || c.live == nil || !c.live.Active ||
		c.has(Restart) || c.has(Stop) || c.has(Redefine) || c.has(Rename) || c.has(Delete) {
		return
	}
	needs := false
	for _, p := range c.Parts {
		needs = needs || p.Pending && p.Class == live.Restart
	}
	r, ok := hostAs[resumedHost](h)
	if !needs || !ok {
		return
	}
	if resumed, err := r.Resumed(c.live.UUID); err != nil || !resumed {
		return
	}
	c.add(Restart, because(ReasonResumesSaved))
	for i := range c.Parts {
		c.Parts[i].Pending = false
	}
}
