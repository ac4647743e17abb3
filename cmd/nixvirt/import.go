package main

import (
	"fmt"
	"os"

	"cuelang.org/go/cue/ast"
	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/xmldoc"
)

func newImportCmd(c *Command) *cobra.Command {
	var connect, kind string
	var config bool
	cmd := &cobra.Command{
		Use:   "import FILE.xml… | --connect URI [NAME…]",
		Short: "turn libvirt XML, or the objects of a live host, into CUE",
		Long: `import writes libvirt domain, network, pool and volume XML (the kind comes
from the root element; - reads stdin) as formatted CUE in nixvirt's vocabulary.
One document is written as itself, ready for vet --kind and export --kind;
several are written keyed by kind and name.

With --connect it imports the objects of a live host (all of them, or those
named; --kind picks one kind), and with --config it writes them as a whole-host
#Config package, with active and autostart as the host has them, ready for plan.
Anything nixvirt's schema has no field for is an error naming the XML line.`,
		Example: `  nixvirt import web.xml > web.cue
  virsh dumpxml web | nixvirt import -
  nixvirt import --connect qemu:///system --config > host.cue`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if connect != "" {
				return doImportHost(c, connect, kind, config, args)
			}
			if config || kind != "" {
				return fmt.Errorf("import: --config and --kind go with --connect")
			}
			if len(args) == 0 {
				return fmt.Errorf("import: give XML files (- for stdin), or --connect URI")
			}
			return doImportFiles(c, args)
		},
	}
	cmd.Flags().StringVarP(&connect, "connect", "c", "", "import the objects of this libvirt host")
	cmd.Flags().StringVar(&kind, "kind", "", "with --connect: only domains, networks or pools (domain, network, pool; a pool's volumes come with it)")
	cmd.Flags().BoolVar(&config, "config", false, "with --connect: write a whole-host #Config package")
	return cmd
}

type imported struct {
	kind compiler.Kind
	name string
	expr ast.Expr
}

func doImportFiles(c *Command, args []string) error {
	s, err := compiler.LoadSchema()
	if err != nil {
		return err
	}
	var docs []imported
	for _, a := range args {
		var data []byte
		name := a
		if a == "-" {
			name = "<stdin>"
			data, err = xmldoc.ReadAll(os.Stdin)
			if err != nil {
				err = fmt.Errorf("%s: %v", name, err)
			}
		} else {
			data, err = compiler.ReadXMLFile(absPath(c.dir, a), a)
		}
		if err != nil {
			return err
		}
		k, x, err := s.Import(name, data)
		if err != nil {
			return err
		}
		docs = append(docs, imported{kind: k, name: objectName(x), expr: x})
	}
	return writeDocs(c, docs)
}

// writeDocs writes one document as itself, several as kind: name: document.
func writeDocs(c *Command, docs []imported) error {
	if len(docs) == 1 {
		out, err := compiler.FormatCUE(docs[0].expr, "")
		if err != nil {
			return err
		}
		_, err = c.stdout.Write(out)
		return err
	}
	st := &ast.StructLit{}
	for _, d := range docs {
		st.Elts = append(st.Elts, &ast.Field{
			Label: ast.NewIdent(string(d.kind)),
			Value: &ast.StructLit{Elts: []ast.Decl{&ast.Field{Label: ast.NewString(d.name), Value: d.expr}}},
		})
	}
	out, err := compiler.FormatCUE(st, "")
	if err != nil {
		return err
	}
	_, err = c.stdout.Write(out)
	return err
}

// objectName reads the name field of an imported document.
func objectName(x ast.Expr) string {
	st, ok := x.(*ast.StructLit)
	if !ok {
		return ""
	}
	for _, d := range st.Elts {
		if f, ok := d.(*ast.Field); ok {
			if id, ok := f.Label.(*ast.Ident); ok && id.Name == "name" {
				if lit, ok := f.Value.(*ast.BasicLit); ok {
					return unquote(lit.Value)
				}
			}
		}
	}
	return ""
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func absPath(dir, p string) string {
	if len(p) > 0 && p[0] == '/' {
		return p
	}
	return dir + "/" + p
}
