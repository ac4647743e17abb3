package apply

import (
	"fmt"
	"sort"
	"strings"

	"cuelang.org/go/cue/ast"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/reported"
)

// Imported is an object of a live host as CUE in nixvirt's vocabulary,
// with its state.
type Imported struct {
	Kind       compiler.Kind
	Name       string
	Definition ast.Expr
	Active     bool
	Autostart  bool
	// Volumes are a running pool's volumes, when asked for.
	Volumes []ImportedVolume
}

// ImportedVolume is a volume of an imported pool.
type ImportedVolume struct {
	Name       string
	Definition ast.Expr
}

// ImportHost reads the objects of the given kinds from a host, each kind
// sorted by name, or only those named (an error names one that is not
// there). With volumes, the volumes of running pools come too.
//
// What libvirt reports by itself is left out (see internal/reported), so
// that a configuration made of the result plans no change. Device
// addresses and controllers stay: without them libvirt could renumber a
// guest's devices when the definition is next changed.
func ImportHost(s *compiler.Schema, h Host, kinds []compiler.Kind, names []string, volumes bool) ([]Imported, error) {
	uri := h.URI()
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	found := map[string]bool{}
	var out []Imported
	for _, k := range kinds {
		live, err := h.List(k)
		if err != nil {
			return nil, fmt.Errorf("%s: cannot list %ss: %s", uri, k, libvirtMessage(err))
		}
		sort.Slice(live, func(i, j int) bool { return live[i].Name < live[j].Name })
		for _, l := range live {
			if len(want) > 0 && !want[l.Name] {
				continue
			}
			found[l.Name] = true
			x, err := importLive(s, fmt.Sprintf("%s %s %q", uri, k, l.Name), k, l.XML)
			if err != nil {
				return nil, err
			}
			im := Imported{Kind: k, Name: l.Name, Definition: x, Active: l.Active, Autostart: l.Autostart}
			if k == compiler.KindPool && l.Active && volumes {
				vols, err := h.Volumes(l.Name)
				if err != nil {
					return nil, fmt.Errorf("%s: cannot list the volumes of pool %q: %s", uri, l.Name, libvirtMessage(err))
				}
				for _, v := range vols {
					vx, err := importLive(s, fmt.Sprintf("%s volume %q", uri, v.Name), compiler.KindVolume, v.XML)
					if err != nil {
						return nil, err
					}
					im.Volumes = append(im.Volumes, ImportedVolume{Name: v.Name, Definition: vx})
				}
			}
			out = append(out, im)
		}
	}
	for _, n := range names {
		if !found[n] {
			word := "object"
			if len(kinds) == 1 {
				word = string(kinds[0])
			}
			return nil, fmt.Errorf("%s: no %s named %q", uri, word, n)
		}
	}
	return out, nil
}

// importLive imports the definition of a live object without what libvirt
// reports of it by itself.
//
// nixvirt's own ownership mark is left out too: it is apply's to write,
// and a configuration carrying an old one would export it into the new
// definition.
func importLive(s *compiler.Schema, name string, k compiler.Kind, liveXML string) (ast.Expr, error) {
	root, err := compiler.ParseXML(name, []byte(stripMark(liveXML)))
	if err != nil {
		return nil, err
	}
	if md := root.Child("metadata"); md != nil && strings.TrimSpace(md.Inner()) == "" {
		root.RemoveChildren("metadata")
	}
	reported.RemoveRuntime(root)
	_, x, err := s.ImportElement(name, root)
	return x, err
}

// HostConfig is the body of a #Config with imported objects as the
// entries of one connection, with active and autostart as the host has
// them.
func HostConfig(uri string, objs []Imported) ast.Expr {
	conn := &ast.StructLit{}
	byKind := map[compiler.Kind]*ast.StructLit{}
	for _, o := range objs {
		entry := &ast.StructLit{Elts: []ast.Decl{
			field("definition", o.Definition),
			field("active", ast.NewBool(o.Active)),
			field("autostart", ast.NewBool(o.Autostart)),
		}}
		if len(o.Volumes) > 0 {
			vst := &ast.StructLit{}
			for _, v := range o.Volumes {
				vst.Elts = append(vst.Elts, &ast.Field{Label: ast.NewString(v.Name), Value: &ast.StructLit{Elts: []ast.Decl{field("definition", v.Definition)}}})
			}
			entry.Elts = append(entry.Elts, field("volumes", vst))
		}
		st := byKind[o.Kind]
		if st == nil {
			// Kinds appear in the order of their first object.
			st = &ast.StructLit{}
			byKind[o.Kind] = st
			conn.Elts = append(conn.Elts, field(string(o.Kind)+"s", st))
		}
		st.Elts = append(st.Elts, &ast.Field{Label: ast.NewString(o.Name), Value: entry})
	}
	return &ast.StructLit{Elts: []ast.Decl{
		field("connections", &ast.StructLit{Elts: []ast.Decl{&ast.Field{Label: ast.NewString(uri), Value: conn}}}),
	}}
}

func field(name string, v ast.Expr) *ast.Field {
	return &ast.Field{Label: ast.NewIdent(name), Value: v}
}
