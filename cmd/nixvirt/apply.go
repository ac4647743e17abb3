package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/apply"
)

func newApplyCmd(c *Command) *cobra.Command {
	var f hostFlags
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply [ARGS]",
		Short: "make the hosts match the configuration",
		Long: `apply does what plan shows: networks and pools first, then volumes, then
domains, every stop before any start, deletions last. It prints one line per
object as it goes and a summary at the end. One failing object does not stop
the others; the exit code reports it. Connections are reconciled in parallel,
and two applies against one host from this machine run one after the other.

Objects a configuration no longer names are deleted only if nixvirt defined
them for this configuration's owner (owner, --owner; "default" without either)
(--no-prune keeps them); a running domain is shut down first, forced off after
the connection's shutdownTimeout. A domain keeps its disks, NVRAM, TPM state
and managed save image (one that has an image is not deleted). Pools are
undefined, never emptied; a volume is deleted only by present: false. Another
owner's objects are never changed; --take-over moves the ones the
configuration names to its owner.`,
		Example: `  nixvirt apply ./host
  nixvirt apply --connect qemu:///system settings.json   # what the Nix modules run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			wanted, err := f.wanted(c, args)
			if err != nil {
				return f.configError(c, err)
			}
			if dryRun {
				p := apply.MakePlan(wanted, connector(), f.options())
				if err := f.renderPlan(c, p); err != nil {
					return err
				}
				if len(p.Errors) > 0 {
					for _, e := range p.Errors {
						fmt.Fprintln(c.stderr, "error:", e)
					}
					return errPrinted
				}
				return nil
			}
			// Results go to stdout (as text only), failures to stderr; with
			// several connections each line names its own.
			several := len(wanted.Objects) > 1
			report := func(o apply.Outcome) {
				line := apply.OutcomeText(o)
				if several {
					line = "[" + o.Connection + "] " + line
				}
				switch {
				case o.Failure != nil:
					fmt.Fprintln(c.stderr, line)
				case f.output == "text":
					fmt.Fprintln(c.stdout, line)
				}
			}
			// Ctrl-C finishes the objects apply has begun and leaves the rest.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res := apply.Apply(ctx, wanted, connector(), f.options(), report)
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
			if len(res.Failed) > 0 {
				return errPrinted
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only show the plan")
	return cmd
}
