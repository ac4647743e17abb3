package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/jsondoc"
)

func newVetCmd(c *Command) *cobra.Command {
	var f inputFlags
	var output string
	cmd := &cobra.Command{
		Use:   "vet [ARGS]",
		Short: "check a configuration or a document against libvirt's grammar",
		Long: `vet checks its input against nixvirt's schemas and prints nothing when it is
valid. Without --kind the input is a whole-host configuration (#Config); with
--kind it is one domain, network, pool, volume or secret document. Every document is
also converted to libvirt XML, so vet catches what export would refuse.`,
		Example: `  nixvirt vet                       # the CUE package in this directory
  nixvirt vet host.cue -e hosts.lab  # one value of a file
  nixvirt vet --kind domain web.json # a NixVirt domain as JSON`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return doVet(c, &f, output, args)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&output, "output", "text", "text (nothing when valid) or json")
	return cmd
}

func doVet(c *Command, f *inputFlags, output string, args []string) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("--output %q: want text or json", output)
	}
	_, err := f.compile(c, args)
	if output == "text" {
		return err
	}
	res := jsondoc.Vet[compiler.Problem]{FormatVersion: jsondoc.FormatVersion, Valid: err == nil, Errors: []compiler.Problem{}}
	if err != nil {
		res.Errors = compiler.Report(err, c.dir)
	}
	if werr := jsondoc.Write(c.stdout, res); werr != nil {
		return werr
	}
	if err != nil {
		return errPrinted
	}
	return nil
}
