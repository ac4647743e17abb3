package main

import (
	"github.com/spf13/cobra"
)

func newVetCmd(c *Command) *cobra.Command {
	var f inputFlags
	cmd := &cobra.Command{
		Use:   "vet [ARGS]",
		Short: "check a configuration or a document against libvirt's grammar",
		Long: `vet checks its input against nixvirt's schemas and prints nothing when it is
valid. Without --kind the input is a whole-host configuration (#Config); with
--kind it is one domain, network, pool or volume document. Every document is
also converted to libvirt XML, so vet catches what export would refuse.`,
		Example: `  nixvirt vet                       # the CUE package in this directory
  nixvirt vet host.cue -e hosts.lab  # one value of a file
  nixvirt vet --kind domain web.json # a NixVirt domain as JSON`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return doVet(c, &f, args)
		},
	}
	f.add(cmd)
	return cmd
}

func doVet(c *Command, f *inputFlags, args []string) error {
	_, err := f.compile(c, args)
	return err
}
