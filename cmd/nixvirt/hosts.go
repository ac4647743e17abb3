//go:build !nolibvirt

package main

import (
	"fmt"

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
	// owner overrides the configuration's owner; takeOver moves objects
	// of other owners that the configuration names to it.
	owner    string
	takeOver bool
	// record: the command records its compiled configuration for the
	// next run (apply does; see compilecache.go).
	record bool
	// inputs is the compile record the configuration came from (taken
	// or written by this run), for a memo (memo.go); nil for none.
	inputs *compileRecord
}

func (f *hostFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.expr, "expression", "e", "", "evaluate this expression and use its value as the configuration")
	cmd.Flags().StringVarP(&f.connect, "connect", "c", "", "take NixVirt's per-connection settings file (JSON) for this libvirt URI")
	cmd.Flags().StringVar(&f.output, "output", "text", "text or json")
	cmd.Flags().BoolVar(&f.noPrune, "no-prune", false, "keep objects nixvirt defined that left the configuration")
	// No flag default: the owner field decides without --owner, so the
	// help must not show one (pflag's "(default ...)").
	cmd.Flags().StringVar(&f.owner, "owner", "", `the owner of the configuration's objects: this, else its owner field, else "`+apply.DefaultOwner+`"; only this owner's objects are pruned, redefined or stopped`)
	cmd.Flags().BoolVar(&f.takeOver, "take-over", false, "move the objects the configuration names from their owner to this one")
}

// wanted compiles the configuration: a CUE #Config, or with --connect
// NixVirt's settings file for one connection.
func (f *hostFlags) wanted(c *Command, args []string) (*apply.Desired, error) {
	if f.output != "text" && f.output != "json" {
		return nil, fmt.Errorf("--output %q: want text or json", f.output)
	}
	var wanted *apply.Desired
	var compiled []compiler.Object
	in, err := c.input(args)
	if err != nil {
		return nil, err
	}
	cache := f.compileCache(c, in)
	if d, notes, ok := cache.load(); ok {
		noteReported(c.stderr, notes)
		f.inputs = cache.used
		return d, nil
	}
	if !f.record {
		cache = nil
	}
	// What compiling reads, for the record: the loader fills it for CUE
	// (the files of every package imported), on the fast path as well.
	var read compiler.Inputs
	in.Read = &read
	// Valid JSON with every definition inline, or CUE that imports none of
	// nixvirt's packages: the Go checker, no schema (see
	// inputFlags.compileFast); Build needs no schema for compiled objects.
	if f.expr == "" && (f.connect == "" || settingsFileError(c, f.connect, in.Args[0]) == nil) {
		if cfg, ok := compiler.FastConfig(in, f.connect); ok {
			if f.owner != "" {
				if err := compiler.CheckOwnerName(f.owner); err != nil {
					return nil, fmt.Errorf("--owner: %v", err)
				}
				cfg.Owner = f.owner
			}
			d, err := apply.Build(nil, cfg)
			if err == nil {
				if len(read.Files) == 0 {
					// JSON: the files of the command line are all it read.
					read = compiler.FileInputs(in.Dir, in.Args)
				}
				cache.store(cfg, d, read)
				f.inputs = cache.recorded()
			}
			return d, err
		}
	}
	read = compiler.Inputs{}
	err = compiler.Run(func(s *compiler.Schema) error {
		var v cue.Value
		var err error
		if f.connect != "" {
			if v, err = loadSettings(c, s, f.connect, in, f.expr); err != nil {
				return err
			}
		} else if v, err = s.Load(in, f.expr); err != nil {
			return err
		}
		u, err := s.CheckConfigIn(v, c.dir)
		if err != nil {
			return withHint(s, v, "", false, err)
		}
		cfg, err := s.Config(u, c.dir)
		if err != nil {
			return err
		}
		if f.owner != "" {
			if err := s.CheckOwner(f.owner); err != nil {
				return fmt.Errorf("--owner: %v", err)
			}
			cfg.Owner = f.owner
		}
		compiled = cfg.Objects
		if wanted, err = apply.Build(s, cfg); err == nil {
			cache.store(cfg, wanted, read)
			f.inputs = cache.recorded()
		}
		return err
	})
	if err == nil {
		noteReported(c.stderr, compiled)
	}
	return wanted, err
}

func (f *hostFlags) options() apply.Options {
	return apply.Options{Prune: !f.noPrune, TakeOver: f.takeOver, State: apply.OpenState(apply.StateDir())}
}

// dial opens a libvirt connection; the tests give one that keeps a test
// driver's host (which lives only as long as its connection).
var dial apply.Connector = apply.Connect

// connector opens libvirt connections.
func connector() apply.Connector { return dial }
