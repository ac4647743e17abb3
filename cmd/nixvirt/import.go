package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"cuelang.org/go/cue/ast"
	"github.com/spf13/cobra"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
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
	cmd.Flags().StringVar(&kind, "kind", "", "with --connect: only domains, networks, pools or volumes (domain, network, pool, volume)")
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
		if a == "-" {
			data, err = io.ReadAll(os.Stdin)
		} else {
			data, err = os.ReadFile(absPath(c.dir, a))
		}
		if err != nil {
			return fmt.Errorf("%s: %v", a, err)
		}
		name := a
		if a == "-" {
			name = "<stdin>"
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

func doImportHost(c *Command, uri, kindFlag string, config bool, names []string) error {
	s, err := compiler.LoadSchema()
	if err != nil {
		return err
	}
	kinds := compiler.TopLevelKinds
	if kindFlag != "" {
		k, err := compiler.ParseKind(kindFlag)
		if err != nil {
			return err
		}
		if k == compiler.KindVolume {
			return fmt.Errorf("import --connect: volumes are imported with their pools (--kind pool)")
		}
		kinds = []compiler.Kind{k}
	}
	h, err := apply.Connect(uri)
	if err != nil {
		return err
	}
	defer h.Close()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	found := map[string]bool{}
	var docs []imported
	entries := map[compiler.Kind]*ast.StructLit{}
	for _, k := range kinds {
		live, err := h.List(k)
		if err != nil {
			return fmt.Errorf("%s: cannot list %ss: %v", uri, k, err)
		}
		sort.Slice(live, func(i, j int) bool { return live[i].Name < live[j].Name })
		for _, l := range live {
			if len(want) > 0 && !want[l.Name] {
				continue
			}
			found[l.Name] = true
			_, x, err := s.Import(fmt.Sprintf("%s %s %q", uri, k, l.Name), []byte(l.XML))
			if err != nil {
				return err
			}
			switch k {
			case compiler.KindPool:
				// libvirt reports a pool's sizes; nobody writes them.
				x = withoutFields(x, "capacity", "allocation", "available")
			case compiler.KindDomain:
				x = withoutRuntime(x)
			}
			docs = append(docs, imported{kind: k, name: l.Name, expr: x})
			if !config {
				continue
			}
			entry := &ast.StructLit{Elts: []ast.Decl{
				&ast.Field{Label: ast.NewIdent("definition"), Value: x},
				&ast.Field{Label: ast.NewIdent("active"), Value: ast.NewBool(l.Active)},
				&ast.Field{Label: ast.NewIdent("autostart"), Value: ast.NewBool(l.Autostart)},
			}}
			if k == compiler.KindPool && l.Active {
				vols, err := h.Volumes(l.Name)
				if err != nil {
					return err
				}
				vst := &ast.StructLit{}
				for _, v := range vols {
					_, vx, err := s.Import(fmt.Sprintf("%s volume %q", uri, v.Name), []byte(v.XML))
					if err != nil {
						return err
					}
					vst.Elts = append(vst.Elts, &ast.Field{Label: ast.NewString(v.Name), Value: &ast.StructLit{Elts: []ast.Decl{&ast.Field{Label: ast.NewIdent("definition"), Value: vx}}}})
				}
				if len(vols) > 0 {
					entry.Elts = append(entry.Elts, &ast.Field{Label: ast.NewIdent(compiler.KindVolume.Plural()), Value: vst})
				}
			}
			if entries[k] == nil {
				entries[k] = &ast.StructLit{}
			}
			entries[k].Elts = append(entries[k].Elts, &ast.Field{Label: ast.NewString(l.Name), Value: entry})
		}
	}
	for _, n := range names {
		if !found[n] {
			return fmt.Errorf("%s: no %s named %q", uri, kindsWord(kinds), n)
		}
	}
	if !config {
		return writeDocs(c, docs)
	}
	conn := &ast.StructLit{}
	for _, k := range kinds {
		if entries[k] != nil {
			conn.Elts = append(conn.Elts, &ast.Field{Label: ast.NewIdent(k.Plural()), Value: entries[k]})
		}
	}
	cfg := &ast.StructLit{Elts: []ast.Decl{&ast.Field{
		Label: ast.NewIdent("connections"),
		Value: &ast.StructLit{Elts: []ast.Decl{&ast.Field{Label: ast.NewString(uri), Value: conn}}},
	}}}
	body, err := compiler.FormatCUE(cfg, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "// Imported from %s by nixvirt import.\npackage host\n\nimport \"nixvirt.dev/nixvirt/schemas\"\n\nschemas.#Config\n\n%s", uri, body)
	return nil
}

func kindsWord(kinds []compiler.Kind) string {
	if len(kinds) == 1 {
		return string(kinds[0])
	}
	return "object"
}

func absPath(dir, p string) string {
	if len(p) > 0 && p[0] == '/' {
		return p
	}
	return dir + "/" + p
}

// withoutFields drops top-level fields of an imported document.
func withoutFields(x ast.Expr, names ...string) ast.Expr {
	st, ok := x.(*ast.StructLit)
	if !ok {
		return x
	}
	drop := map[string]bool{}
	for _, n := range names {
		drop[n] = true
	}
	var keep []ast.Decl
	for _, d := range st.Elts {
		if f, ok := d.(*ast.Field); ok && drop[labelName(f.Label)] {
			continue
		}
		keep = append(keep, d)
	}
	return &ast.StructLit{Elts: keep}
}

// withoutRuntime drops what libvirt makes up for a domain as it runs or
// on this host, and nobody writes: a security label, device aliases, and
// the host-side names of interfaces (vnet0). Device addresses and
// controllers stay: without them libvirt could renumber a guest's devices
// when the definition is next changed.
func withoutRuntime(x ast.Expr) ast.Expr {
	x = withoutFields(x, "seclabel")
	st, ok := x.(*ast.StructLit)
	if !ok {
		return x
	}
	for _, d := range st.Elts {
		f, ok := d.(*ast.Field)
		if !ok || labelName(f.Label) != "devices" {
			continue
		}
		devs, ok := f.Value.(*ast.StructLit)
		if !ok {
			continue
		}
		for _, dd := range devs.Elts {
			df, ok := dd.(*ast.Field)
			if !ok {
				continue
			}
			drop := []string{"alias"}
			if labelName(df.Label) == "interface" {
				drop = append(drop, "target")
			}
			df.Value = eachItem(df.Value, func(e ast.Expr) ast.Expr { return withoutFields(e, drop...) })
		}
	}
	return st
}

// eachItem applies f to a value, or to each item of a list.
func eachItem(x ast.Expr, f func(ast.Expr) ast.Expr) ast.Expr {
	if l, ok := x.(*ast.ListLit); ok {
		for i, e := range l.Elts {
			l.Elts[i] = f(e)
		}
		return l
	}
	return f(x)
}

func labelName(l ast.Label) string {
	switch l := l.(type) {
	case *ast.Ident:
		return l.Name
	case *ast.BasicLit:
		return unquote(l.Value)
	}
	return ""
}
