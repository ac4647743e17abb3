package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"nixvirt.dev/nixvirt/apply"
)

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
	defer tty.Close()
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
