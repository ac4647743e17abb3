//go:build !nolibvirt

package main

import (
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

func change(name string, actions ...apply.Action) *apply.Change {
	c := &apply.Change{Connection: "qemu:///system", Kind: compiler.KindDomain, Name: name}
	for _, a := range actions {
		c.Actions = append(c.Actions, apply.Step{Action: a})
	}
	return c
}

// The question names what is disruptive; a stop before a deletion is
// part of the deletion.
func TestDisruptionsWording(t *testing.T) {
	p := &apply.Plan{Changes: []*apply.Change{
		change("web", apply.Redefine, apply.Restart), change("old", apply.Stop, apply.Delete),
		change("idle", apply.Stop), change("new", apply.Create, apply.Start)}}
	if got, want := disruptions(p), "restarts domain/web; stops domain/idle; deletes domain/old"; got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if got := disruptions(&apply.Plan{Changes: []*apply.Change{change("new", apply.Create)}}); got != "" {
		t.Fatalf("a creation asks nothing: %q", got)
	}
}

// What apply executes must not disrupt more than what was confirmed.
func TestApprovalOnlyOfWhatWasConfirmed(t *testing.T) {
	confirmed := &apply.Plan{Changes: []*apply.Change{change("web", apply.Redefine, apply.Restart)}}
	approve := sameDisruptions(confirmed)
	if err := approve(&apply.Plan{Changes: []*apply.Change{change("web", apply.Redefine, apply.Restart), change("new", apply.Create)}}); err != nil {
		t.Fatal(err)
	}
	err := approve(&apply.Plan{Changes: []*apply.Change{change("web", apply.Redefine, apply.Restart), change("db", apply.Restart)}})
	if err == nil || !strings.Contains(err.Error(), "restart domain/db on qemu:///system") {
		t.Fatalf("got %v", err)
	}
}
