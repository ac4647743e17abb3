package apply

import (
	"fmt"
	"io"
	"strings"
	"time"

	"nixvirt.dev/nixvirt/compiler"
)

var symbols = map[Action]string{
	Create: "+", CreateVolume: "+", Redefine: "~", Adopt: "~", Refresh: "~", Rename: "~", Autostart: "~",
	Start: "▶", Stop: "■", Restart: "↻", Delete: "-", DeleteVolume: "-", LiveUpdate: "~", RefreshPool: "~",
	RestartResumed: "↻", SetValue: "~",
}

var verbs = map[Action]string{
	Create: "will be created", Redefine: "will be redefined", Adopt: "will be taken over",
	Refresh: "will have nixvirt's record of it rewritten",
	Rename:  "will be renamed", Start: "will be started", Stop: "will be stopped",
	Restart: "will restart", Delete: "will be deleted", LiveUpdate: "will be changed while it runs",
	RefreshPool:    "will be refreshed (its volumes rescanned; it keeps running)",
	RestartResumed: "will restart once it has resumed, to take its new definition",
	SetValue:       "will have its value set",
}

// colours of the action symbols, for a terminal.
var colours = map[string]string{"+": "\x1b[32m", "-": "\x1b[31m", "~": "\x1b[33m", "↻": "\x1b[33m", "▶": "\x1b[32m", "■": "\x1b[31m"}

func paint(colour bool, symbol string) string {
	if c, ok := colours[symbol]; ok && colour {
		return c + symbol + "\x1b[0m"
	}
	return symbol
}

// RenderText writes the plan as people read terraform's: a heading per
// change, its reasons, the diff of its definition, and a summary line.
// The connections that could not be planned (p.Errors) are for the caller
// to print where errors go.
func RenderText(w io.Writer, p *Plan) { renderText(w, p, false) }

// RenderTextColour is RenderText with coloured action symbols, for a
// terminal.
func RenderTextColour(w io.Writer, p *Plan) { renderText(w, p, true) }

func renderText(w io.Writer, p *Plan, colour bool) {
	conn := ""
	for _, c := range p.Changes {
		if len(c.Actions) == 0 && c.Problem == nil && len(c.VolumeProblems) == 0 && len(c.Parts) == 0 {
			continue
		}
		if c.Connection != conn {
			conn = c.Connection
			fmt.Fprintf(w, "%s\n", conn)
		}
		if c.Problem != nil {
			fmt.Fprintf(w, "  ! %s %q cannot be planned: %s\n", c.Kind, c.Name, ProblemText(c))
			continue
		}
		for _, s := range c.Actions {
			switch s.Action {
			case CreateVolume:
				fmt.Fprintf(w, "  %s volume %q in pool %q will be created%s\n", paint(colour, "+"), s.Volume, c.Name, withContent(s))
			case ReplaceVolume:
				fmt.Fprintf(w, "  %s volume %q in pool %q will be replaced%s\n", paint(colour, "~"), s.Volume, c.Name, withContent(s))
			case GrowVolume:
				fmt.Fprintf(w, "  %s volume %q in pool %q will grow to %d bytes\n", paint(colour, "~"), s.Volume, c.Name, s.Capacity)
			case DeleteVolume:
				fmt.Fprintf(w, "  %s volume %q in pool %q will be deleted\n", paint(colour, "-"), s.Volume, c.Name)
			case DeleteSeed:
				fmt.Fprintf(w, "  %s volume %q in pool %q will be deleted\n", paint(colour, "-"), s.Volume, s.Reasons[0].Name)
			case Autostart:
				fmt.Fprintf(w, "  %s %s %q autostart will be set to %v\n", paint(colour, "~"), c.Kind, c.Name, *s.On)
			case WaitAddress:
				fmt.Fprintf(w, "  … %s %q: apply will wait up to %ds for an address on every interface\n", c.Kind, c.Name, s.Timeout)
				continue
			default:
				fmt.Fprintf(w, "  %s %s %q %s\n", paint(colour, symbols[s.Action]), c.Kind, c.Name, verbs[s.Action])
			}
			if why := StepReasons(c.Kind, s); why != "" && s.Action != Autostart {
				fmt.Fprintf(w, "      # (%s)\n", why)
			}
		}
		for _, vp := range c.VolumeProblems {
			fmt.Fprintf(w, "  ! volume %q in pool %q cannot be planned: %s\n", vp.Volume, c.Name, VolumeProblemText(c.Name, vp))
		}
		renderParts(w, c, colour)
		if c.Diff != "" {
			for _, line := range strings.Split(strings.TrimSuffix(c.Diff, "\n"), "\n") {
				fmt.Fprintf(w, "      %s\n", line)
			}
		}
	}
	for _, u := range p.Unmanaged {
		fmt.Fprintf(w, "  · %s %q on %s %s and is left alone\n", u.Kind, u.Name, u.Connection, UnmanagedText(u))
	}
	for _, k := range p.Kept {
		fmt.Fprintf(w, "  · %s\n", KeptText(k))
	}
	add, change, destroy := p.Counts()
	if len(p.Errors) > 0 {
		fmt.Fprintf(w, "Plan incomplete: %d connection(s) could not be read; %d to add, %d to change, %d to destroy on the others.\n", len(p.Errors), add, change, destroy)
		return
	}
	if n := p.Problems(); n > 0 {
		fmt.Fprintf(w, "Plan incomplete: %d object(s) cannot be planned and apply would fail for them; %d to add, %d to change, %d to destroy.\n", n, add, change, destroy)
		return
	}
	if add+change+destroy == 0 {
		fmt.Fprintln(w, "No changes. The hosts match the configuration.")
		return
	}
	fmt.Fprintf(w, "Plan: %d to add, %d to change, %d to destroy.\n", add, change, destroy)
}

// StepReasons words why a step of a change of kind k is planned: its
// reasons joined by "; ", "" when it has none.
func StepReasons(k compiler.Kind, s Step) string {
	var out []string
	for _, r := range s.Reasons {
		out = append(out, reasonText(k, s, r))
	}
	return strings.Join(out, "; ")
}

func reasonText(k compiler.Kind, s Step, r Reason) string {
	switch r.Code {
	case ReasonActive:
		return fmt.Sprintf("active: %v", s.Action != Stop)
	case ReasonAutostart:
		if s.On != nil {
			return fmt.Sprintf("autostart: %v", *s.On)
		}
		return "autostart"
	case ReasonRestartTrue:
		return "restart: true"
	case ReasonDefinitionChanged:
		if s.Action == Restart {
			return "because its definition changed"
		}
		return "its definition changed"
	case ReasonDrifted:
		if s.Action == Restart {
			return "because its definition was changed outside nixvirt"
		}
		return "its definition was changed outside nixvirt since nixvirt defined it; the configuration's is put back"
	case ReasonTakeOverDiffers:
		if s.Action == Restart {
			return "because nixvirt takes it over with a different definition"
		}
		return "nixvirt takes it over; its definition differs"
	case ReasonTakeOverIdentical:
		return "nixvirt takes over an identical object, which it did not define"
	case ReasonWrittenOtherwise:
		return "the definition is written otherwise but says what the live one does"
	case ReasonRenamed:
		if s.Action == Restart {
			return "because it was renamed"
		}
		return fmt.Sprintf("same UUID, renamed from %q", r.Name)
	case ReasonBeforeDelete:
		return "before it is deleted"
	case ReasonPresentFalse:
		return "present: false" + kept(k, s, false)
	case ReasonLeftConfiguration:
		return "nixvirt defined it and it left the configuration" + kept(k, s, true)
	case ReasonMissing:
		return "missing"
	case ReasonForVolumes:
		return "to create its volumes"
	case ReasonContentChanged:
		return "its declared content differs from what nixvirt put in it; replace: true"
	case ReasonSeedChanged:
		return fmt.Sprintf("the cloud-init seed of domain %q changed; a guest that already booted reads it only if cloud-init runs again (give meta-data a new instance-id)", r.Name)
	case ReasonSeedOfDeletedDomain:
		return "the cloud-init seed nixvirt built for this domain, which is deleted"
	case ReasonSeedNoLongerUsed:
		return "the cloud-init seed nixvirt built for this domain, which no longer has cloudInit; deleted after the domain is redefined without it"
	case ReasonValueNew:
		return "a value nixvirt has not set"
	case ReasonValueChanged:
		return "its value changed since nixvirt set it"
	case ReasonUsageChanged:
		return "its usage changed, which libvirt keeps while a secret is defined: it is undefined and defined again, and its value set again"
	case ReasonCapacityGrows:
		return "its declared capacity is larger"
	case ReasonWaitFor:
		return "waitFor"
	case ReasonPoolStopped:
		if s.Action == DeleteVolume {
			return "the pool is stopped and lists no volumes: deleted if present once it runs"
		}
		return "the pool is stopped and lists no volumes: created if missing once it runs"
	case ReasonResumesSaved:
		if s.Action == Restart {
			return "because it was resumed from its managed save image with an older definition, and a part of its own needs a restart (see restart below)"
		}
		if s.Action == Start {
			return "it resumes from its managed save image, with the definition it was saved with"
		}
		return "it has a managed save image: started, it resumes with the definition it was saved with, and takes this one when it restarts"
	case ReasonBeforeVolumes:
		return "before its missing volumes are created: libvirt lists the volumes it last scanned, and one put in the pool since is found and kept, not created over"
	case ReasonVolumeFound:
		return "found when the pool was listed again; kept as it is"
	case ReasonAttachedDomain:
		return fmt.Sprintf("domain %q is stopped and started around it", r.Name)
	case ReasonAttachedUnownedDomain:
		return fmt.Sprintf("domain %q, which this configuration does not own, is stopped and started around it", r.Name)
	case ReasonUnfinished:
		return "an earlier apply stopped it to start it again and did not finish"
	case ReasonReattachDomain:
		return fmt.Sprintf("domain %q keeps running; its interfaces are re-attached after it", r.Name)
	case ReasonReattachFailed:
		return fmt.Sprintf("domain %q stopped and started: %s", r.Name, r.Detail)
	case ReasonNeedsRestart:
		return "because a change needs it (see restart below)"
	case ReasonLiveRefused:
		return fmt.Sprintf("libvirt refused to change %s live: %s", r.Name, r.Detail)
	case ReasonPendingRelease:
		return fmt.Sprintf("%s is out of the definition; the running guest has yet to release it", r.Name)
	case ReasonTakenFromOwner:
		return fmt.Sprintf("--take-over: it moves from owner %q to this configuration's", r.Name)
	}
	return string(r.Code)
}

// kept says what a deletion keeps: a domain's disks and, unless the step
// removes them, its NVRAM and TPM state; a pruned pool's files.
func kept(k compiler.Kind, s Step, pruned bool) string {
	if s.Action != Delete {
		return ""
	}
	switch {
	case k == compiler.KindPool && pruned:
		return "; its files are kept"
	case k != compiler.KindDomain:
		return ""
	case !s.DeleteNvram && !s.DeleteTPM:
		return "; its disks, NVRAM and TPM state are kept"
	case !s.DeleteNvram:
		return "; its disks and NVRAM are kept, its TPM state is deleted"
	case !s.DeleteTPM:
		return "; its disks and TPM state are kept, its NVRAM is deleted"
	}
	return "; its NVRAM and TPM state are deleted, its disks kept"
}

// ProblemText words why a change cannot be planned.
func ProblemText(c *Change) string {
	p := c.Problem
	if c.Kind == compiler.KindVolume {
		return VolumeProblemText(c.Name, VolumeProblem{Problem: *p})
	}
	switch p.Code {
	case ProblemNameTaken:
		exists := fmt.Sprintf("a %s named %q exists with UUID %s", c.Kind, c.Name, p.Detail)
		switch h := p.Holder; {
		case h == nil:
			return exists + fmt.Sprintf("; nixvirt identifies objects by UUID: give the definition uuid: %q to take it over, or remove it", p.Detail)
		case h.Own:
			return exists + fmt.Sprintf(", and it is this configuration's; nixvirt identifies objects by UUID: give the definition uuid: %q to keep it, or remove it first (an apply with present: false for it)", p.Detail)
		}
		return exists + fmt.Sprintf(", and it %s; nixvirt never changes another configuration's objects: give this %s another name, or, %s", holderText(p.Holder), c.Kind, takeOverAdvice(c.Kind, p.Detail))
	case ProblemUsageTaken:
		used := fmt.Sprintf("its usage (%s) is secret %s's, which ", p.Usage, p.Detail)
		switch h := p.Holder; {
		case h == nil:
			return used + fmt.Sprintf("nixvirt did not define; libvirt gives a usage to one secret only: give the definition uuid: %q to take that secret over (its value is set from the entry), or remove it (virsh secret-undefine %s)", p.Detail, p.Detail)
		case h.Own:
			return used + fmt.Sprintf("is this configuration's secret %q; libvirt gives a usage to one secret only: if this entry is %q renamed, give its definition uuid: %q to keep that secret, otherwise give it another usage", h.Name, h.Name, p.Detail)
		}
		return used + fmt.Sprintf("%s; nixvirt never changes another configuration's secrets: give this entry another usage, or, %s", holderText(p.Holder), takeOverAdvice(c.Kind, p.Detail))
	case ProblemNotOwned:
		if p.Detail != "" {
			return fmt.Sprintf("present: false, but this %s belongs to owner %q, and nixvirt deletes only this configuration's objects (--take-over moves it here first)", c.Kind, p.Detail)
		}
		return fmt.Sprintf("present: false, but nixvirt did not define this %s and never deletes what it does not own", c.Kind)
	case ProblemOtherOwner:
		return fmt.Sprintf("it belongs to owner %q, another configuration; nixvirt never changes another owner's objects: use that owner (--owner %s), or move it to this one with --take-over%s", p.Detail, p.Detail, takeOverEffect)
	case ProblemOtherStateDir:
		return fmt.Sprintf("the state directory %s records it under this same owner name, for another configuration; nixvirt never changes what another configuration owns: give the configurations different owners, remove that directory if it is this configuration's old one, or move it here with --take-over%s", p.Detail, takeOverEffect)
	case ProblemManagedSave:
		verb, id := "deleting", c.Name
		if old, ok := strings.CutPrefix(p.Detail, "rename:"); ok {
			// It still has its old name.
			verb, id = "renaming", old
		}
		return fmt.Sprintf("it has a managed save image (its saved memory), which %s it would lose: start it to resume the guest (virsh start %s), or remove the image yourself (virsh managedsave-remove %s), then apply again", verb, id, id)
	case ProblemRenameNeedsRestart:
		return fmt.Sprintf("%s %q is running and renaming it needs a restart, which restart: false forbids; stop it first", c.Kind, p.Detail)
	case ProblemVolumesNeedActivePool:
		return fmt.Sprintf("pool %q has volumes to create but active: false; a pool must run to create volumes", c.Name)
	case ProblemSecretValue:
		return "its value cannot be read: " + p.Detail
	case ProblemSecretUsage:
		return "its usage changes, which libvirt does only by undefining the secret and so losing its value; " + p.Detail
	case ProblemListVolumes:
		return fmt.Sprintf("cannot list the volumes of pool %q: %s", c.Name, p.Detail)
	}
	return string(p.Code)
}

// holderText says whose an object in an entry's way is, for one of
// another configuration: "belongs to owner "nixos", another configuration",
// and which state directory claims it.
func holderText(h *Holder) string {
	text := fmt.Sprintf("belongs to owner %q, another configuration", h.Owner)
	if h.Name != "" {
		text = fmt.Sprintf("belongs to owner %q (its entry %q), another configuration", h.Owner, h.Name)
	}
	if h.StateDir != "" {
		text += fmt.Sprintf(" (its state directory %s claims it)", h.StateDir)
	}
	return text
}

// takeOverEffect says what --take-over does to the configuration that has
// the object: advice to take another configuration's object says so.
const takeOverEffect = ", which makes it this configuration's: that configuration can then no longer change or delete it"

// takeOverAdvice says how an object of another configuration (UUID uuid)
// can be taken, and what that does to the configuration that has it.
func takeOverAdvice(k compiler.Kind, uuid string) string {
	return fmt.Sprintf("to take the %s from that configuration, give the definition uuid: %q and apply with --take-over%s", k, uuid, takeOverEffect)
}

// KeptText says that a configuration keeps its objects of a kind it
// leaves out: "pools on qemu:///system: not in this configuration;
// keeping the 2 this owner has (db, web)".
func KeptText(k Kept) string {
	n := fmt.Sprint(len(k.Names))
	if len(k.Names) == 1 {
		n = "one"
	}
	quoted := make([]string, len(k.Names))
	for i, name := range k.Names {
		quoted[i] = fmt.Sprintf("%q", name)
	}
	return fmt.Sprintf("%s on %s: not in this configuration; keeping the %s this owner has (%s)", k.Kind.Plural(), k.Connection, n, strings.Join(quoted, ", "))
}

// UnmanagedText says why an object is left alone: "is not nixvirt's",
// "belongs to owner "nixos"", or that it is a copy.
func UnmanagedText(u Unmanaged) string {
	switch {
	case u.CopyOf != "":
		return fmt.Sprintf("is a copy of %s %s (it carries that object's nixvirt mark)", u.Kind, u.CopyOf)
	case u.Owner != "":
		return fmt.Sprintf("belongs to owner %q", u.Owner)
	}
	return "is not nixvirt's"
}

// why words a failure without naming its object.
func (f Failure) why() string {
	switch {
	case f.Problem != nil:
		return ProblemText(&Change{Kind: f.Kind, Name: f.Name, Problem: f.Problem})
	case f.Interrupted:
		return "not changed: interrupted"
	case f.Abandoned:
		return "interrupted while waiting for a shutdown: left as it was; the next apply finishes it"
	case f.Op != "":
		return fmt.Sprintf("%s failed: %s", f.Op, f.Message)
	}
	return f.Message
}

// String is the failure as one line naming its connection and object.
func (f Failure) String() string {
	if f.Kind == "" {
		return f.Message
	}
	return fmt.Sprintf("%s %s %q: %s", f.Connection, f.Kind, f.Name, f.why())
}

// OutcomeText is the line apply prints for an object as it is done:
// "domain/web redefined, restarted", or why it failed.
func OutcomeText(o Outcome) string {
	obj := fmt.Sprintf("%s/%s", o.Kind, o.Name)
	if f := o.Failure; f != nil {
		switch {
		case f.Problem != nil:
			return obj + " not changed: " + f.why()
		case f.Interrupted, f.Abandoned:
			return obj + " " + f.why()
		}
		return obj + " failed: " + f.why()
	}
	var done []string
	for _, s := range o.Done {
		done = append(done, doneText(s))
	}
	return obj + " " + strings.Join(done, ", ")
}

func doneText(s Step) string {
	switch s.Action {
	case Rename:
		for _, r := range s.Reasons {
			if r.Code == ReasonRenamed {
				return fmt.Sprintf("renamed from %q", r.Name)
			}
		}
		return "renamed"
	case Autostart:
		return fmt.Sprintf("autostart %v", *s.On)
	case CreateVolume:
		if len(s.Reasons) > 0 && s.Reasons[0].Code == ReasonVolumeFound {
			return "volume " + s.Volume + " " + StepReasons("", s)
		}
		return "volume " + s.Volume + " created"
	case DeleteVolume:
		return "volume " + s.Volume + " deleted"
	case DeleteSeed:
		return "seed volume " + s.Reasons[0].Name + "/" + s.Volume + " deleted"
	case ReplaceVolume:
		return "volume " + s.Volume + " replaced"
	case GrowVolume:
		return fmt.Sprintf("volume %s grown to %d bytes", s.Volume, s.Capacity)
	case WaitAddress:
		return "addresses " + addressesText(s.Addresses)
	case LiveUpdate, Restart:
		if s.Action == Restart && len(s.Reasons) > 0 && s.Reasons[0].Code == ReasonReattachFailed {
			// A network's attached domain, not the network itself.
			return StepReasons("", s)
		}
		if s.Action == Restart && len(s.Reasons) > 0 && s.Reasons[0].Code == ReasonReattachDomain {
			return fmt.Sprintf("domain %q kept running, its interfaces re-attached", s.Reasons[0].Name)
		}
		if s.Action == LiveUpdate && len(s.Reasons) > 0 && s.Reasons[0].Code == ReasonLiveRefused {
			// The refusals of changes written to the definition only.
			return "not changed live (" + StepReasons("", s) + ")"
		}
		if len(s.Reasons) > 0 {
			return doneWords[s.Action] + " (" + StepReasons("", s) + ")"
		}
	}
	return doneWords[s.Action]
}

var doneWords = map[Action]string{
	Create: "created", Redefine: "redefined", Refresh: "record rewritten", Adopt: "adopted",
	Start: "started", Stop: "stopped", Restart: "restarted", Delete: "deleted", LiveUpdate: "changed live",
	RefreshPool: "refreshed", RestartResumed: "restarted after it resumed, with its new definition",
	SetValue: "value set",
}

// WaitingText is the line that says what apply waits for:
// "domain/web: waiting for shutdown (20s of 60s)".
func WaitingText(w Waiting) string {
	what := "shutdown"
	if w.Domain != "" {
		what = fmt.Sprintf("domain %s to shut down", w.Domain)
	}
	// Whole seconds, rounded: the first report comes about a second in.
	// The last comes as the time runs out, rounded at most up to it.
	return fmt.Sprintf("%s/%s: waiting for %s (%ds of %ds)", w.Kind, w.Name, what,
		int(min(w.Elapsed.Round(time.Second), w.Timeout)/time.Second), int(w.Timeout/time.Second))
}

// withContent says where a created volume's content comes from.
func withContent(s Step) string {
	if s.Content == "" {
		return ""
	}
	return " (" + s.Content + ")"
}

// addressesText is "MAC ADDR ADDR; MAC ADDR".
func addressesText(ifaces []InterfaceAddresses) string {
	var out []string
	for _, i := range ifaces {
		out = append(out, strings.TrimSpace(i.MAC+" "+strings.Join(i.Addresses, " ")))
	}
	if len(out) == 0 {
		return "(no interfaces)"
	}
	return strings.Join(out, "; ")
}
