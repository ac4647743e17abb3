//go:build !nolibvirt

package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

func newPlanCmd(c *Command) *cobra.Command {
	var f hostFlags
	var detailed bool
	cmd := &cobra.Command{
		Use:   "plan [ARGS]",
		Short: connectingShort["plan"],
		Long: `plan compares a whole-host configuration with the live hosts and prints, per
object, what apply will do and why, with a unified diff of each definition that
changes. It changes nothing. Objects nixvirt did not define, and those of
another owner (owner, --owner), are listed and never touched. Connections are
read in parallel.`,
		Example: `  nixvirt plan ./host
  nixvirt plan --output json ./host
  nixvirt plan --owner lab ./host
  nixvirt plan --connect qemu:///system settings.json   # NixVirt's settings file`,
		RunE: func(cmd *cobra.Command, args []string) error {
			memo := startMemo(c)
			wanted, err := f.wanted(c, args)
			if err != nil {
				memo.finish(false, &f, nil)
				return f.configError(c, err)
			}
			p := apply.MakePlan(wanted, memo.connector(connector()), f.options())
			err = f.renderPlan(c, p)
			if err == nil {
				err = planFailure(c, p)
			}
			if err == nil && detailed && p.HasChanges() {
				err = exitCode(2)
			}
			memo.finish(err == nil && !p.HasChanges(), &f, wanted)
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when there are changes (0: none, 1: an error, or an object that cannot be planned)")
	return cmd
}

// renderPlan prints a plan as --output asks.
func (f *hostFlags) renderPlan(c *Command, p *apply.Plan) error {
	switch {
	case f.output == "json":
		return apply.RenderJSON(c.stdout, p)
	case isTerminal(c.stdout):
		apply.RenderTextColour(c.stdout, p)
	default:
		apply.RenderText(c.stdout, p)
	}
	return nil
}

// configError reports a configuration that cannot be planned: as the
// JSON document with its errors under --output json, so that a script
// always reads a document; otherwise as the error it is.
func (f *hostFlags) configError(c *Command, err error) error {
	if f.output != "json" {
		return err
	}
	if werr := apply.RenderErrorsJSON(c.stdout, compiler.Report(err, c.dir)); werr != nil {
		return werr
	}
	return errPrinted
}

// isTerminal reports whether w is a terminal that may show colour
// (NO_COLOR, https://no-color.org, turns it off).
func isTerminal(w io.Writer) bool {
	return isTTY(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// planFailure reports a plan's errors, and fails for them: connections
// that could not be planned and, as terraform's plan does, objects that
// cannot be planned (apply would fail for each), whatever else the plan
// holds. plan and apply --dry-run share it, so that they exit alike.
func planFailure(c *Command, p *apply.Plan) error {
	for _, e := range p.Errors {
		fmt.Fprintln(c.stderr, "error:", e)
	}
	if len(p.Errors) > 0 {
		return errPrinted
	}
	if n := p.Problems(); n > 0 {
		fmt.Fprintf(c.stderr, "error: %d object(s) cannot be planned\n", n)
		return errPrinted
	}
	return nil
}
