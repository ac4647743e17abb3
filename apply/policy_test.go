package apply

import (
	"testing"
	"time"

	"nixvirt.dev/nixvirt/compiler"
)

func TestRestartPolicy(t *testing.T) {
	yes, no := true, false
	d, n, p := compiler.KindDomain, compiler.KindNetwork, compiler.KindPool
	for _, tc := range []struct {
		name string
		f    restartFacts
		want ReasonCode // "" for no restart
	}{
		{"stopped objects never restart", restartFacts{Kind: d, Restart: &yes, Changed: true}, ""},
		{"restart: true always", restartFacts{Kind: d, Running: true, Restart: &yes}, ReasonRestartTrue},
		{"restart: true restarts a pool too", restartFacts{Kind: p, Running: true, Restart: &yes}, ReasonRestartTrue},
		{"restart: false never", restartFacts{Kind: d, Running: true, Restart: &no, Changed: true, Owned: true}, ""},
		{"restart: false forbids a rename's", restartFacts{Kind: d, Running: true, Restart: &no, Renamed: true}, ""},
		{"unchanged", restartFacts{Kind: d, Running: true, Owned: true}, ""},
		{"changed, owned", restartFacts{Kind: d, Running: true, Changed: true, Owned: true}, ReasonDefinitionChanged},
		{"changed network", restartFacts{Kind: n, Running: true, Changed: true, Owned: true}, ReasonDefinitionChanged},
		{"changed, taken over", restartFacts{Kind: d, Running: true, Changed: true}, ReasonTakeOverDiffers},
		{"renamed", restartFacts{Kind: d, Running: true, Renamed: true, Owned: true}, ReasonRenamed},
		{"renamed and changed", restartFacts{Kind: n, Running: true, Renamed: true, Changed: true, Owned: true}, ReasonRenamed},
		{"a pool takes a new definition running", restartFacts{Kind: p, Running: true, Changed: true, Owned: true}, ""},
		{"a pool is renamed running", restartFacts{Kind: p, Running: true, Renamed: true, Owned: true}, ""},
	} {
		got, ok := restartPolicy(tc.f)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

// The summary counts objects: a redefine and its restart are one change.
func TestCountsObjects(t *testing.T) {
	step := func(a Action) Step { return Step{Action: a} }
	vol := func(a Action, name string) Step { return Step{Action: a, Volume: name} }
	p := &Plan{Changes: []*Change{
		{Actions: []Step{step(Redefine), step(Restart)}},
		{Actions: []Step{step(Create), step(Start), step(Autostart)}},
		{Actions: []Step{step(Stop), step(Delete)}},
		{Actions: []Step{vol(CreateVolume, "a"), vol(CreateVolume, "b"), vol(DeleteVolume, "c")}},
		{Actions: []Step{step(Start), vol(CreateVolume, "d")}},
		{Problem: &Problem{Code: ProblemNotOwned}},
		{},
	}}
	add, change, destroy := p.Counts()
	if add != 4 || change != 2 || destroy != 2 {
		t.Fatalf("got %d to add, %d to change, %d to destroy; want 4, 2, 2", add, change, destroy)
	}
}

// TestReasonWording pins the text renderer's words for each reason: the
// plan's text output is read by people and matched by scripts.
func TestReasonWording(t *testing.T) {
	yes := true
	d, p := compiler.KindDomain, compiler.KindPool
	for _, tc := range []struct {
		kind compiler.Kind
		step Step
		want string
	}{
		{d, Step{Action: Start, Reasons: []Reason{{Code: ReasonActive}}}, "active: true"},
		{d, Step{Action: Stop, Reasons: []Reason{{Code: ReasonActive}}}, "active: false"},
		{d, Step{Action: Autostart, On: &yes, Reasons: []Reason{{Code: ReasonAutostart}}}, "autostart: true"},
		{d, Step{Action: Restart, Reasons: []Reason{{Code: ReasonRestartTrue}}}, "restart: true"},
		{d, Step{Action: Redefine, Reasons: []Reason{{Code: ReasonDefinitionChanged}}}, "its definition changed"},
		{d, Step{Action: Restart, Reasons: []Reason{{Code: ReasonDefinitionChanged}}}, "because its definition changed"},
		{d, Step{Action: Redefine, Reasons: []Reason{{Code: ReasonTakeOverDiffers}}}, "nixvirt takes it over; its definition differs"},
		{d, Step{Action: Restart, Reasons: []Reason{{Code: ReasonTakeOverDiffers}}}, "because nixvirt takes it over with a different definition"},
		{d, Step{Action: Adopt, Reasons: []Reason{{Code: ReasonTakeOverIdentical}}}, "nixvirt takes over an identical object, which it did not define"},
		{d, Step{Action: Refresh, Reasons: []Reason{{Code: ReasonWrittenOtherwise}}}, "the definition is written otherwise but says what the live one does"},
		{d, Step{Action: Rename, Reasons: []Reason{{Code: ReasonRenamed, Name: "old"}}}, `same UUID, renamed from "old"`},
		{d, Step{Action: Restart, Reasons: []Reason{{Code: ReasonRenamed}}}, "because it was renamed"},
		{d, Step{Action: Stop, Reasons: []Reason{{Code: ReasonBeforeDelete}}}, "before it is deleted"},
		{d, Step{Action: Delete, Reasons: []Reason{{Code: ReasonLeftConfiguration}}}, "nixvirt defined it and it left the configuration; its disks, NVRAM and TPM state are kept"},
		{p, Step{Action: Delete, Reasons: []Reason{{Code: ReasonLeftConfiguration}}}, "nixvirt defined it and it left the configuration; its files are kept"},
		{p, Step{Action: Delete, Reasons: []Reason{{Code: ReasonPresentFalse}}}, "present: false"},
		{d, Step{Action: Delete, DeleteTPM: true, Reasons: []Reason{{Code: ReasonPresentFalse}}}, "present: false; its disks and NVRAM are kept, its TPM state is deleted"},
		{d, Step{Action: Delete, DeleteNvram: true, DeleteTPM: true, Reasons: []Reason{{Code: ReasonPresentFalse}}}, "present: false; its NVRAM and TPM state are deleted, its disks kept"},
		{p, Step{Action: CreateVolume, Volume: "v", Reasons: []Reason{{Code: ReasonMissing}}}, "missing"},
		{p, Step{Action: Start, Reasons: []Reason{{Code: ReasonForVolumes}}}, "to create its volumes"},
		{compiler.KindNetwork, Step{Action: Restart, Reasons: []Reason{{Code: ReasonDefinitionChanged}, {Code: ReasonAttachedDomain, Name: "web"}}},
			`because its definition changed; domain "web" is stopped and started around it`},
	} {
		if got := StepReasons(tc.kind, tc.step); got != tc.want {
			t.Errorf("%s %s %v:\n got %q\nwant %q", tc.kind, tc.step.Action, tc.step.Reasons, got, tc.want)
		}
	}
}

// TestWaitingText: the seconds waited, rounded, never past the timeout
// (the last report comes as it runs out).
func TestWaitingText(t *testing.T) {
	for _, tc := range []struct {
		elapsed time.Duration
		want    string
	}{
		{1100 * time.Millisecond, "domain/web: waiting for shutdown (1s of 60s)"},
		{60*time.Second + 700*time.Millisecond, "domain/web: waiting for shutdown (60s of 60s)"},
	} {
		w := Waiting{Object: Object{Kind: compiler.KindDomain, Name: "web"}, Elapsed: tc.elapsed, Timeout: time.Minute}
		if got := WaitingText(w); got != tc.want {
			t.Errorf("after %s: %q, want %q", tc.elapsed, got, tc.want)
		}
	}
}
