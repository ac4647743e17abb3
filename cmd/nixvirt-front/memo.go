package main

import (
	"cmp"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"nixvirt.dev/nixvirt/internal/handover"
	"nixvirt.dev/nixvirt/internal/noopmemo"
	"nixvirt.dev/nixvirt/internal/rpcread"
	"nixvirt.dev/nixvirt/internal/stdout"
)

// fromMemo answers a plan or apply from the memo the whole build left of
// the same command line when it changed nothing (package noopmemo), if
// nothing the run depended on changed since, and reports whether it did.
// It prints nothing otherwise (but with NIXVIRT_MEMO_TRACE set, why): the
// command line is handed over.
func fromMemo(args []string) bool {
	// A closed stdout is the whole build's to report (package stdout).
	if len(args) == 0 || args[0] != "plan" && args[0] != "apply" || handover.HandedAs() != "" || stdout.WasClosed() {
		return false
	}
	// Ctrl-C or SIGTERM while the memo is checked (waiting for another
	// apply's lock, say) ends the command as the whole build's would
	// end one that had begun nothing: 130 or 143.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-signals
		name, code := "Interrupted", 130
		if s == syscall.SIGTERM {
			name, code = "Terminated", 143
		}
		fmt.Fprintf(os.Stderr, "%s: nothing was begun.\n", name)
		os.Exit(code)
	}()
	why := answerFromMemo(args)
	signal.Stop(signals)
	if os.Getenv(noopmemo.TraceVar) != "" {
		fmt.Fprintln(os.Stderr, "nixvirt: memo:", cmp.Or(why, "answered from the memo"))
	}
	return why == ""
}

// answerFromMemo answers args from their memo and returns "", or returns
// why it does not, having printed nothing.
func answerFromMemo(args []string) string {
	stateDir := noopmemo.StateDir()
	if !noopmemo.Trusted(stateDir) {
		return "no state directory of this user's own at " + stateDir
	}
	dir, err := os.Getwd()
	if err != nil {
		return err.Error()
	}
	memo, err := noopmemo.Read(stateDir, args, dir)
	if err != nil {
		return "none for this command line in " + stateDir
	}
	// The memo is of the build this command line would be handed to.
	path, err := handover.Find(handover.LibvirtName)
	if err != nil || path == "" {
		return "no " + handover.LibvirtName + " to hand over to"
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	build, ok := noopmemo.Identify(path)
	if !ok {
		return "cannot stat " + path
	}
	ttys := [3]bool{noopmemo.Terminal(os.Stdin), noopmemo.Terminal(os.Stdout), noopmemo.Terminal(os.Stderr)}
	if !memo.Matches(args, dir, noopmemo.Environ(os.Environ(), handover.EnvVar), os.Geteuid(), ttys, build) {
		return "written by another build, or with another environment, user or terminal"
	}
	if !noopmemo.Unchanged(memo.Files, memo.Stats, memo.Dirs) {
		return "the configuration's files changed"
	}
	var uris []string
	for _, h := range memo.Hosts {
		uris = append(uris, h.URI)
	}
	// For an apply, each connection's lock is held while its host is
	// read, as an apply holds it, and the records are read under the
	// last one, meanwhile; the connections are taken one after another,
	// never two locks at once.
	var state string
	for i, h := range memo.Hosts {
		var meanwhile func()
		if i == len(memo.Hosts)-1 {
			meanwhile = func() {
				state = noopmemo.StateDigest(stateDir, []string{noopmemo.OwnersDir(), noopmemo.SystemOwnersDir}, uris)
			}
		}
		if why := sameHost(stateDir, h, args[0] == "apply", meanwhile); why != "" {
			return why
		}
	}
	if len(memo.Hosts) == 0 || state != memo.State {
		return "nixvirt's records or claims changed"
	}
	// What the run printed, on the streams it printed it on.
	if _, err := os.Stdout.WriteString(memo.Stdout); err != nil {
		return "cannot write: " + err.Error()
	}
	_, _ = os.Stderr.WriteString(memo.Stderr) // as the run's own: a failed write to stderr is not reported
	return ""
}

// sameHost returns "" when a host answers every recorded read as it did,
// or why not; with lock, holding the connection's lock meanwhile. It
// runs meanwhile, if any, while the host answers.
func sameHost(stateDir string, h noopmemo.Host, lock bool, meanwhile func()) string {
	if lock {
		unlock, ok := noopmemo.LockConnection(stateDir, noopmemo.OwnersDir(), h.URI)
		if !ok {
			return "cannot take the lock of " + h.URI
		}
		defer unlock()
	}
	conn, err := rpcread.Dial(h.URI)
	if err != nil {
		return fmt.Sprintf("cannot read %s over RPC: %v", h.URI, err)
	}
	defer func() { _ = conn.Close() }() // read only
	done := make(chan struct{})
	go func() {
		defer close(done)
		if meanwhile != nil {
			meanwhile()
		}
	}()
	same := noopmemo.Same(conn, h.Calls)
	<-done
	if !same {
		return h.URI + " changed"
	}
	return ""
}
