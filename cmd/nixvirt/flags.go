package main

import (
	"fmt"
	"io"
	"strings"

	"cuelang.org/go/cue"
	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/xmlfiles"
)

// inputFlags are the flags of commands that read a configuration.
type inputFlags struct {
	expr    string
	kind    string
	connect string
}

func (f *inputFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.expr, "expression", "e", "", "evaluate this expression and use its value")
	cmd.Flags().StringVar(&f.kind, "kind", "", "check a single document: domain, network, pool, volume or secret (default: a whole #Config)")
	cmd.Flags().StringVarP(&f.connect, "connect", "c", "", "the input is NixVirt's per-connection settings file (JSON) for this libvirt URI")
}

// load reads the arguments and checks them against the schema: a single
// document with --kind, a whole-host #Config without.
func (f *inputFlags) load(c *Command, s *compiler.Schema, in compiler.Input) (checked, error) {
	var k compiler.Kind
	if f.kind != "" {
		var err error
		if k, err = compiler.ParseKind(f.kind); err != nil {
			return checked{}, err
		}
	}
	if f.connect != "" {
		if k != "" {
			return checked{}, fmt.Errorf("--connect and --kind do not go together")
		}
		v, err := loadSettings(c, s, f.connect, in, f.expr)
		if err != nil {
			return checked{}, err
		}
		u, err := s.CheckConfigIn(v, c.dir)
		return checked{value: u}, err
	}
	v, err := s.Load(in, f.expr)
	if err != nil {
		return checked{}, err
	}
	if k == "" {
		u, err := s.CheckConfigIn(v, c.dir)
		return checked{value: u}, withHint(s, v, "", true, err)
	}
	u, err := s.Check(v, k)
	return checked{value: u, kind: k}, withHint(s, v, k, true, err)
}

// document is one XML document to write: to stdout (File "") or a file.
type document = xmlfiles.Document

// compile checks the input and returns its XML documents: one for --kind,
// one per object of a whole-host configuration otherwise.
func (f *inputFlags) compile(c *Command, args []string) ([]document, error) {
	var docs []document
	input, err := c.input(args)
	if err != nil {
		return nil, err
	}
	if docs, ok := f.compileFast(c, input); ok {
		return docs, nil
	}
	var compiled []compiler.Object
	err = compiler.Run(func(s *compiler.Schema) error {
		docs = docs[:0]
		compiled = nil
		in, err := f.load(c, s, input)
		if err != nil {
			return err
		}
		if in.kind != "" {
			x, err := s.Export(in.value, in.kind)
			docs = append(docs, document{XML: x})
			return err
		}
		objs, err := s.Objects(in.value, c.dir)
		if err != nil {
			return err
		}
		compiled = objs
		for _, o := range objs {
			x, err := s.Compile(o)
			if err != nil {
				return err
			}
			if x != "" {
				docs = append(docs, document{File: xmlfiles.ObjectFile(o.Connection, o.Kind, o.Pool, o.Name), XML: x})
			}
		}
		return nil
	})
	if err == nil {
		noteReported(c.stderr, compiled)
	}
	return docs, err
}

// compileFast is compile by the Go checker, for valid JSON input: no CUE
// evaluation at all. When it is not sure (an error, a CUE file, -e, an XML
// definition) it reports false and compile takes the CUE path, which
// decides and explains.
func (f *inputFlags) compileFast(c *Command, in compiler.Input) ([]document, bool) {
	if f.expr != "" {
		return nil, false
	}
	if f.kind != "" {
		k, err := compiler.ParseKind(f.kind)
		if err != nil || f.connect != "" {
			return nil, false
		}
		x, ok := compiler.FastDocument(in, k)
		return []document{{XML: x}}, ok
	}
	if f.connect != "" && settingsFileError(c, f.connect, in.Args[0]) != nil {
		return nil, false
	}
	cfg, ok := compiler.FastConfig(in, f.connect)
	if !ok {
		return nil, false
	}
	var docs []document
	for _, o := range cfg.Objects {
		if o.Compiled != "" {
			docs = append(docs, document{File: xmlfiles.ObjectFile(o.Connection, o.Kind, o.Pool, o.Name), XML: o.Compiled})
		}
	}
	return docs, true
}

// noteReported says which elements of the objects' XML files are left
// out as what libvirt reports of their storage (see Object.Reported).
func noteReported(w io.Writer, objs []compiler.Object) {
	for _, o := range objs {
		if len(o.Reported) > 0 {
			fmt.Fprintf(w, "note: %s: left out what libvirt reports of the %s's storage: %s\n", o.XMLName, o.Kind, strings.Join(o.Reported, ", "))
		}
	}
}

// loadSettings reads NixVirt's per-connection settings file as the
// configuration of that one connection; its XML paths are relative to the
// file.
func loadSettings(c *Command, s *compiler.Schema, uri string, in compiler.Input, expr string) (cue.Value, error) {
	if len(in.Args) != 1 {
		return cue.Value{}, fmt.Errorf("--connect %s takes one settings file (JSON)", uri)
	}
	if err := settingsFileError(c, uri, in.Args[0]); err != nil {
		return cue.Value{}, err
	}
	v, err := s.LoadSettings(in, expr)
	if err != nil {
		return v, err
	}
	return s.Context().CompileString("{}").FillPath(cue.MakePath(cue.Str("connections"), cue.Str(uri)), v), nil
}

// input reads the arguments, and stdin once if one of them names it.
func (c *Command) input(args []string) (compiler.Input, error) {
	return compiler.ReadInput(c.dir, args, c.stdin)
}
