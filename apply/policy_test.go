package apply

import (
	"testing"

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
