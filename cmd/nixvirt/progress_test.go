//go:build !nolibvirt

package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

// /dev/null, the standard input of a service, is a character device but
// no terminal: apply must not ask there.
func TestDevNullIsNoTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTTY(f) {
		t.Fatal("/dev/null taken for a terminal")
	}
}

func waitEvents(p *progress, name string, upTo int) {
	for s := 1; s <= upTo; s++ {
		p.Waiting(apply.Waiting{Object: apply.Object{Connection: "qemu:///system", Kind: compiler.KindDomain, Name: name},
			Elapsed: time.Duration(s) * time.Second, Timeout: 60 * time.Second})
	}
}

// Through a pipe, a wait is a line when it begins and one every 10 s, on
// stderr; the outcome goes to stdout.
func TestProgressLinesThroughAPipe(t *testing.T) {
	var out, errs strings.Builder
	p := newProgress(&out, &errs, false)
	waitEvents(p, "web", 25)
	p.Outcome(apply.Outcome{Connection: "qemu:///system", Kind: compiler.KindDomain, Name: "web", Done: []apply.Step{{Action: apply.Stop}}})
	want := "domain/web: waiting for shutdown (1s of 60s)\ndomain/web: waiting for shutdown (10s of 60s)\ndomain/web: waiting for shutdown (20s of 60s)\n"
	if errs.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errs.String(), want)
	}
	if out.String() != "domain/web stopped\n" {
		t.Errorf("stdout: %q", out.String())
	}
}

// On a terminal, the waits are one status line rewritten in place, never
// a line of its own, and an outcome line takes its place when done.
func TestProgressInPlaceOnATerminal(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out, &out, false)
	p.tty, p.width = true, 200
	waitEvents(p, "web", 3)
	waitEvents(p, "db", 2)
	p.Outcome(apply.Outcome{Connection: "qemu:///system", Kind: compiler.KindDomain, Name: "web", Done: []apply.Step{{Action: apply.Stop}}})
	p.Done()
	raw := out.String()
	if n := strings.Count(raw, "domain/web: waiting for shutdown"); n < 3 {
		t.Errorf("the status line was drawn %d times, want every second:\n%q", n, raw)
	}
	// What stays on the screen is what follows the last erase of each line.
	var screen []string
	for _, line := range strings.Split(raw, "\n") {
		if i := strings.LastIndex(line, "\r\x1b[K"); i >= 0 {
			line = line[i+len("\r\x1b[K"):]
		}
		screen = append(screen, line)
	}
	if got := strings.Join(screen, "\n"); got != "domain/web stopped\n" {
		t.Errorf("screen:\n%q\nraw:\n%q", got, raw)
	}
	if !strings.Contains(raw, "domain/db: waiting for shutdown (2s of 60s); domain/web: waiting for shutdown (3s of 60s)") {
		t.Errorf("both waits are not on the status line:\n%q", raw)
	}
}

// A status line longer than the terminal is cut, never wrapped.
func TestProgressStatusFitsTheTerminal(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out, &out, false)
	p.tty, p.width = true, 30
	waitEvents(p, "a-rather-long-domain-name", 1)
	if got := p.statusLine(); len([]rune(got)) > 29 || !strings.HasSuffix(got, "…") {
		t.Fatalf("status %q", got)
	}
}
