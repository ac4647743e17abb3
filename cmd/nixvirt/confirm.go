//go:build !nolibvirt

package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"nixvirt.dev/nixvirt/apply"
)

// sameDisruptions approves a connection's plan, as apply is about to
// execute it, when it restarts, stops or deletes nothing that the
// confirmed plan did not: the host may have changed since the question.
func sameDisruptions(confirmed *apply.Plan) func(*apply.Plan) error {
	asked := map[string]bool{}
	for _, d := range disruptionList(confirmed) {
		asked[d] = true
	}
	return func(p *apply.Plan) error {
		var unasked []string
		for _, d := range disruptionList(p) {
			if !asked[d] {
				unasked = append(unasked, d)
			}
		}
		if len(unasked) > 0 {
			return fmt.Errorf("the host changed since the question: apply would now also %s; nothing was changed there, run apply again", strings.Join(unasked, ", "))
		}
		return nil
	}
}

// disruptionList is a plan's disruptions one by one: "restart
// domain/web" (with the connection, so that equal names of two
// connections differ).
func disruptionList(p *apply.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		for _, s := range c.Actions {
			obj := string(c.Kind) + "/" + c.Name
			switch s.Action {
			case apply.Restart, apply.Stop, apply.Delete:
				out = append(out, fmt.Sprintf("%s %s on %s", s.Action, obj, c.Connection))
			case apply.DeleteVolume:
				out = append(out, fmt.Sprintf("delete volume %s of %s on %s", s.Volume, obj, c.Connection))
			}
		}
	}
	return out
}

// disruptions words what in a plan stops a running service or loses
// something, which apply asks about on a terminal: "restarts domain/web;
// deletes domain/old". "" when there is none.
func disruptions(p *apply.Plan) string {
	var restart, stop, del []string
	for _, c := range p.Changes {
		obj := string(c.Kind) + "/" + c.Name
		deleted := false
		for _, s := range c.Actions {
			deleted = deleted || s.Action == apply.Delete
		}
		for _, s := range c.Actions {
			switch s.Action {
			case apply.Restart:
				restart = append(restart, obj)
			case apply.Stop:
				if !deleted { // a stop before a deletion is part of it
					stop = append(stop, obj)
				}
			case apply.Delete:
				del = append(del, obj)
			case apply.DeleteVolume:
				del = append(del, "volume "+s.Volume+" of pool/"+c.Name)
			}
		}
	}
	var out []string
	for _, d := range []struct {
		verb string
		objs []string
	}{{"restarts", restart}, {"stops", stop}, {"deletes", del}} {
		if len(d.objs) > 0 {
			out = append(out, d.verb+" "+strings.Join(d.objs, ", "))
		}
	}
	return strings.Join(out, "; ")
}

// confirm shows the plan on the terminal and asks before an apply that
// restarts, stops or deletes anything, as terraform does. It asks only
// when the standard input is a terminal, and then on the controlling
// terminal itself, so that neither a JSON document on stdout nor a log
// of stderr takes the question; without one (a NixOS or Home Manager
// activation, a service, a pipe) it never asks. It reports whether to go
// on; when not, it has said so.
func confirm(c *Command, p *apply.Plan) bool {
	what := disruptions(p)
	if what == "" || !isTTY(c.stdin) {
		return true
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		// A terminal on stdin but none to talk to: do not block.
		return true
	}
	defer func() { _ = tty.Close() }()
	if isTerminal(tty) {
		apply.RenderTextColour(tty, p)
	} else {
		apply.RenderText(tty, p)
	}
	fmt.Fprintf(tty, "\nThis apply %s.\nOnly \"yes\" goes on (--yes skips this question).\nApply these changes? ", what)
	answer, _ := bufio.NewReader(tty).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		fmt.Fprintln(c.stderr, "Apply cancelled: the answer was not \"yes\"; nothing was changed.")
		return false
	}
	return true
}
