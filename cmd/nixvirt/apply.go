//go:build !nolibvirt

package main

import (
	"cmp"
	"fmt"
	"io"
	"net/url"
	"os"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/apply"
)

func newApplyCmd(c *Command) *cobra.Command {
	var f hostFlags
	var dryRun, yes bool
	cmd := &cobra.Command{
		Use:   "apply [ARGS]",
		Short: connectingShort["apply"],
		Long: `apply does what plan shows: networks and pools first, then volumes, then
domains, every stop before any start, deletions last. It prints one line per
object as each is done, and a summary at the end; while a guest shuts down it
says so on stderr (rewritten in place on a terminal, a line every 10 s
otherwise). Domains shut down in parallel, 4 at a time. One failing object does
not stop the others; the exit code reports it. Connections are reconciled in
parallel, and two applies against one host from this machine run one after the
other.

On a terminal, apply shows the plan and asks before it restarts, stops or
deletes anything; --yes does not ask. Without a terminal it never asks.

Ctrl-C makes apply begin nothing more and finish what it has begun, waiting for
the guests it asked to shut down; a second Ctrl-C, or SIGTERM, stops waiting
and leaves those as they are, for the next apply to finish. It then exits 130
(Ctrl-C) or 143 (SIGTERM).

Objects a configuration no longer names are deleted only if nixvirt defined
them for this configuration's owner (owner, --owner; "default" without either)
(--no-prune keeps them); a running domain is shut down first, forced off after
its entry's shutdownTimeout as nixvirt recorded it (the connection's without a
record). A domain keeps its disks, NVRAM, TPM state
and managed save image (one that has an image is not deleted). Pools are
undefined, never emptied; a volume is deleted only by present: false. Another
owner's objects are never changed; --take-over moves the ones the
configuration names to its owner.`,
		Example: `  nixvirt apply ./host
  nixvirt apply --yes ./host                             # do not ask
  nixvirt apply --connect qemu:///system settings.json   # what the Nix modules run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			memo := startMemo(c)
			var wanted *apply.Desired
			noop := false
			err := func() error {
				var err error
				f.record = !dryRun
				connect, release := dialEarly(f.connect, memo.connector(connector()))
				defer release()
				wanted, err = f.wanted(c, args)
				if err != nil {
					return f.configError(c, err)
				}
				if dryRun {
					p := apply.MakePlan(wanted, connect, f.options())
					if err := f.renderPlan(c, p); err != nil {
						return err
					}
					return planFailure(c, p)
				}
				// Only a terminal is asked: an activation plans once.
				var approve func(*apply.Plan) error
				if !yes && isTTY(c.stdin) {
					p := apply.MakePlan(wanted, connect, f.options())
					if !confirm(c, p) {
						return errPrinted
					}
					approve = sameDisruptions(p)
				}
				// Results go to stdout (as text only), failures and waits to
				// stderr; with several connections each line names its own.
				var results io.Writer
				if f.output == "text" {
					results = c.stdout
				}
				prog := newProgress(results, c.stderr, len(wanted.Objects) > 1)
				sig := catchInterrupts(func() {
					what := cmp.Or(prog.Begun(), "what has begun")
					prog.Say("Interrupted: finishing " + what + "; Ctrl-C again to stop waiting for shutdowns.")
				}, func(s os.Signal) {
					prog.Say(fmt.Sprintf("%s: no longer waiting for shutdowns; what is left as it was, the next apply finishes.", signalName(s)))
				})
				res := apply.ApplyWith(wanted, connect, f.options(), apply.Controls{
					Finish: sig.finish, Abandon: sig.abandon,
					Began: prog.Began, Outcome: prog.Outcome, Waiting: prog.Waiting, Approve: approve,
				})
				sig.stop()
				prog.Done()
				for _, e := range res.Plan.Errors {
					fmt.Fprintln(c.stderr, "error:", e)
				}
				if f.output == "json" {
					if err := apply.RenderResultJSON(c.stdout, res); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(c.stdout, "Apply complete: %d added, %d changed, %d destroyed, %d failed.\n",
						res.Added, res.Changed, res.Destroyed, len(res.Failed))
				}
				if code := sig.exitCode(); code != 0 {
					return exitCode(code)
				}
				if len(res.Failed) > 0 {
					return errPrinted
				}
				noop = res.Writes == 0 && res.Added+res.Changed+res.Destroyed == 0 &&
					len(res.Plan.Errors) == 0 && len(res.Addresses) == 0
				return nil
			}()
			memo.finish(err == nil && noop, &f, wanted)
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only show the plan")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask before restarting, stopping or deleting (apply asks only on a terminal)")
	return cmd
}

// dialEarly connects to the libvirt URI that --connect names while the
// configuration is read, and gives that connection to the first plan or
// apply of the URI: opening it is a few round trips to libvirtd, which a
// no-op apply otherwise waits for after reading its compiled
// configuration. Only a local URI (no host: qemu:///system, as the Nix
// modules give) is dialed early; a remote one may ask for a password,
// which must not come before the configuration's errors or the
// question. release closes the connection if nothing took it.
func dialEarly(uri string, dial apply.Connector) (connect apply.Connector, release func()) {
	if u, err := url.Parse(uri); uri == "" || err != nil || u.Host != "" {
		return dial, func() {}
	}
	type dialed struct {
		h   apply.Host
		err error
	}
	early := make(chan dialed, 1)
	go func() {
		h, err := dial(uri)
		early <- dialed{h, err}
	}()
	var mu sync.Mutex
	taken := false
	take := func() (dialed, bool) {
		mu.Lock()
		defer mu.Unlock()
		if taken {
			return dialed{}, false
		}
		taken = true
		return <-early, true
	}
	connect = func(u string) (apply.Host, error) {
		if u == uri {
			if d, ok := take(); ok {
				return d.h, d.err
			}
		}
		return dial(u)
	}
	release = func() {
		if d, ok := take(); ok && d.err == nil {
			_ = d.h.Close() // never used: nothing to lose
		}
	}
	return connect, release
}

// signalName is how the user knows a signal: "Interrupted" (Ctrl-C) or
// "Terminated".
func signalName(s os.Signal) string {
	if s == syscall.SIGTERM {
		return "Terminated"
	}
	return "Interrupted"
}
