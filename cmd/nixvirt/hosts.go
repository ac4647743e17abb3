package main

import (
	"fmt"
	"path/filepath"

	"cuelang.org/go/cue"
	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

// hostFlags are the flags plan and apply share.
type hostFlags struct {
	expr    string
	connect string
	output  string
	noPrune bool
}

func (f *hostFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.expr, "expression", "e", "", "evaluate this expression and use its value as the configuration")
	cmd.Flags().StringVar(&f.connect, "connect", "", "take NixVirt's per-connection settings file (JSON) for this libvirt URI")
	cmd.Flags().StringVar(&f.output, "output", "text", "text or json")
	cmd.Flags().BoolVar(&f.noPrune, "no-prune", false, "keep objects nixvirt defined that left the configuration")
}

// wanted compiles the configuration: a CUE #Config, or with --connect
// NixVirt's settings file for one connection.
func (f *hostFlags) wanted(c *Command, args []string) (*apply.Desired, error) {
	if f.output != "text" && f.output != "json" {
		return nil, fmt.Errorf("--output %q: want text or json", f.output)
	}
	var wanted *apply.Desired
	err := compiler.Run(func(s *compiler.Schema) error {
		var v cue.Value
		var err error
		dir := c.dir
		if f.connect != "" {
			if v, dir, err = loadSettings(c, s, f.connect, args, f.expr); err != nil {
				return err
			}
		} else if v, err = s.Load(c.dir, args, f.expr); err != nil {
			return err
		}
		u, err := s.CheckConfig(v)
		if err != nil {
			return err
		}
		cfg, err := s.Config(u, dir)
		if err != nil {
			return err
		}
		wanted, err = apply.Build(s, cfg)
		return err
	})
	return wanted, err
}

func (f *hostFlags) options() apply.Options {
	return apply.Options{Prune: !f.noPrune, State: apply.OpenState(apply.StateDir())}
}

// loadSettings reads NixVirt's per-connection settings file as the
// configuration of that one connection; its XML paths are relative to the
// file.
func loadSettings(c *Command, s *compiler.Schema, uri string, args []string, expr string) (cue.Value, string, error) {
	if len(args) != 1 {
		return cue.Value{}, "", fmt.Errorf("--connect %s takes one settings file (JSON)", uri)
	}
	v, err := s.LoadSettings(c.dir, args[0], expr)
	if err != nil {
		return v, "", err
	}
	v = s.Context().CompileString("{}").FillPath(cue.MakePath(cue.Str("connections"), cue.Str(uri)), v)
	return v, settingsDir(c, args), nil
}

func settingsDir(c *Command, args []string) string {
	if len(args) == 0 {
		return c.dir
	}
	return filepath.Dir(absPath(c.dir, args[0]))
}

// connector opens libvirt connections.
func connector() apply.Connector { return apply.Connect }
