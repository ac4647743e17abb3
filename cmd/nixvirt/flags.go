package main

import (
	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/compiler"
)

// inputFlags are the flags of commands that read a configuration.
type inputFlags struct {
	expr string
	kind string
}

func (f *inputFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.expr, "expression", "e", "", "evaluate this expression and use its value")
	cmd.Flags().StringVar(&f.kind, "kind", "", "check a single document: domain, network, pool or volume (default: a whole #Config)")
}

// load reads the arguments and checks them against the schema: a single
// document with --kind, a whole-host #Config without.
func (f *inputFlags) load(c *Command, args []string) (*compiler.Schema, checked, error) {
	s, err := compiler.LoadSchema()
	if err != nil {
		return nil, checked{}, err
	}
	v, err := s.Load(c.dir, args, f.expr)
	if err != nil {
		return nil, checked{}, err
	}
	if f.kind == "" {
		u, err := s.CheckConfig(v)
		return s, checked{value: u}, err
	}
	k, err := compiler.ParseKind(f.kind)
	if err != nil {
		return nil, checked{}, err
	}
	u, err := s.Check(v, k)
	return s, checked{value: u, kind: k}, err
}
