package main

import (
	"fmt"
	"io"
	"path/filepath"

	"cuelang.org/go/cue"
	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/xmlfiles"
)

type checked struct {
	value cue.Value
	kind  compiler.Kind
}

func newExportCmd(c *Command) *cobra.Command {
	var f inputFlags
	var out string
	cmd := &cobra.Command{
		Use:   "export [ARGS]",
		Short: "write libvirt XML",
		Long: `export writes libvirt XML. With --kind it writes one document to stdout.
Without --kind the input is a whole-host configuration and --out DIR receives
one file per object:

  DIR/<connection>/domains/<name>.xml
  DIR/<connection>/networks/<name>.xml
  DIR/<connection>/pools/<name>.xml
  DIR/<connection>/volumes/<pool>/<name>.xml

where <connection> is the URI with every character other than letters,
digits, '.', '-' and '_' replaced by '_' (qemu:///system is qemu____system).
The output is byte-for-byte deterministic.`,
		Example: `  nixvirt export --kind domain web.cue > web.xml
  nixvirt export --kind network -e lab networks.cue  # one of several values
  nixvirt export --out build/ ./host`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return doExport(c, &f, out, args)
		},
	}
	f.add(cmd)
	cmd.Flags().Lookup("kind").Usage = "write one document of this kind to stdout: domain, network, pool, volume or secret"
	cmd.Flags().StringVar(&out, "out", "", "write every object of a whole-host configuration under this directory")
	return cmd
}

func doExport(c *Command, f *inputFlags, out string, args []string) error {
	if f.kind == "" && out == "" {
		return fmt.Errorf("export: give --kind to write one document to stdout, or --out DIR for a whole configuration")
	}
	if f.kind != "" && out != "" {
		return fmt.Errorf("export: --kind and --out do not go together: --kind writes one document to stdout")
	}
	docs, err := f.compile(c, args)
	if err != nil {
		return err
	}
	if f.kind != "" {
		_, err := io.WriteString(c.stdout, docs[0].XML)
		return err
	}
	if !filepath.IsAbs(out) {
		out = filepath.Join(c.dir, out)
	}
	return xmlfiles.Write(out, docs)
}
