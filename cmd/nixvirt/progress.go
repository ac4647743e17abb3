//go:build !nolibvirt

package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"nixvirt.dev/nixvirt/apply"
)

// progress prints what apply does as it does it: each object's line as
// it is done (results on stdout as text, failures on stderr) and the
// shutdowns it waits for, on stderr so that a JSON document on stdout
// stays whole. On a terminal the waits are one status line rewritten in
// place every second; elsewhere (a pipe, a log) a line when the wait
// begins and then every waitLineEvery.
type progress struct {
	mu      sync.Mutex
	results io.Writer // nil: results are not printed as they come (JSON)
	errs    io.Writer
	tty     bool
	width   int
	several bool // several connections: each line names its own
	// begun are the objects begun and not yet done, in the order begun.
	begun []apply.Object
	// waits are the shutdowns under way; printed, on a pipe, the last
	// elapsed time printed for each.
	waits   map[apply.Object]apply.Waiting
	printed map[apply.Object]time.Duration
	status  string // the status line on the terminal, "" when none
}

// waitLineEvery is how often, outside a terminal, a wait is reported.
const waitLineEvery = 10 * time.Second

func newProgress(results, errs io.Writer, several bool) *progress {
	p := &progress{results: results, errs: errs, tty: isTTY(errs), several: several,
		waits: map[apply.Object]apply.Waiting{}, printed: map[apply.Object]time.Duration{}}
	if p.tty {
		p.width = terminalWidth(errs)
	}
	return p
}

func (p *progress) prefix(conn string) string {
	if p.several {
		return "[" + conn + "] "
	}
	return ""
}

// line prints a line on w below the status line, which is drawn again.
func (p *progress) line(w io.Writer, s string) {
	p.clearStatus()
	fmt.Fprintln(w, s)
	p.drawStatus()
}

func (p *progress) Began(o apply.Object) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.begun = append(p.begun, o)
}

func (p *progress) Outcome(o apply.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	obj := apply.Object{Connection: o.Connection, Kind: o.Kind, Name: o.Name}
	for i, b := range p.begun {
		if b == obj {
			p.begun = append(p.begun[:i], p.begun[i+1:]...)
			break
		}
	}
	p.clearStatus()
	delete(p.waits, obj)
	delete(p.printed, obj)
	p.status = p.statusLine()
	text := p.prefix(o.Connection) + apply.OutcomeText(o)
	switch {
	case o.Failure != nil:
		fmt.Fprintln(p.errs, text)
	case p.results != nil:
		fmt.Fprintln(p.results, text)
	}
	p.drawStatus()
}

func (p *progress) Waiting(w apply.Waiting) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waits[w.Object] = w
	if p.tty {
		p.clearStatus()
		p.status = p.statusLine()
		p.drawStatus()
		return
	}
	// The first report says at once what apply waits for; then one
	// every waitLineEvery.
	if last, ok := p.printed[w.Object]; !ok || w.Elapsed/waitLineEvery > last/waitLineEvery {
		p.printed[w.Object] = w.Elapsed
		fmt.Fprintln(p.errs, p.prefix(w.Connection)+apply.WaitingText(w))
	}
}

// Say prints a message of nixvirt's own (an interrupt acknowledged).
func (p *progress) Say(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.line(p.errs, s)
}

// Begun names the objects begun and not yet done: "domain/web, domain/db".
func (p *progress) Begun() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var names []string
	for _, o := range p.begun {
		names = append(names, p.prefix(o.Connection)+string(o.Kind)+"/"+o.Name)
	}
	return strings.Join(names, ", ")
}

// Done clears the status line: apply has ended.
func (p *progress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearStatus()
	p.status = ""
}

// statusLine is every wait under way on one line, cut to the terminal's
// width so that it never wraps (a wrapped line cannot be rewritten).
func (p *progress) statusLine() string {
	if !p.tty || len(p.waits) == 0 {
		return ""
	}
	var parts []string
	for _, w := range p.waits {
		parts = append(parts, p.prefix(w.Connection)+apply.WaitingText(w))
	}
	sort.Strings(parts)
	s := strings.Join(parts, "; ")
	if r := []rune(s); len(r) > p.width-1 {
		s = string(r[:max(p.width-2, 0)]) + "…"
	}
	return s
}

func (p *progress) clearStatus() {
	if p.tty && p.status != "" {
		fmt.Fprint(p.errs, "\r\x1b[K")
	}
}

func (p *progress) drawStatus() {
	if p.tty && p.status != "" {
		fmt.Fprint(p.errs, p.status)
	}
}
