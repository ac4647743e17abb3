package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// Object is one libvirt object of a whole-host configuration.
type Object struct {
	Connection string
	Kind       Kind
	Name       string
	Pool       string    // for volumes: the pool they belong to
	Entry      cue.Value // the entry: definition, active, restart, …
	// Definition is the CUE definition, not yet checked against its kind
	// (Compile does that, one object at a time, so that a large
	// configuration never holds every checked document at once); or, when
	// the entry names an XML file, the zero Value and XMLFile set.
	Definition cue.Value
	XMLFile    string
	// XMLName is the file as the configuration names it, for messages.
	XMLName string
	// Absent: the entry says present: false.
	Absent bool
}

// Compile checks an object's definition against its kind and returns its
// libvirt XML; "" for a volume entry that only says present: false.
func (s *Schema) Compile(o Object) (string, error) {
	switch {
	case o.XMLFile != "":
		// An XML definition goes through import, the schema and export
		// like any other, so that what libvirt does not know is an error
		// naming its line rather than dropped.
		name := o.XMLName
		if name == "" {
			name = o.XMLFile
		}
		data, err := ReadXMLFile(o.XMLFile, name)
		if err != nil {
			return "", err
		}
		k, x, err := s.Import(name, data)
		if err != nil {
			return "", err
		}
		if k != o.Kind {
			return "", fmt.Errorf("%s: a %s, where a %s belongs", name, k, o.Kind)
		}
		src, err := FormatCUE(x, "")
		if err != nil {
			return "", err
		}
		v := s.ctx.CompileBytes(src, cue.Filename(name+" (as CUE)"))
		u, err := s.Check(v, o.Kind)
		if err != nil {
			return "", err
		}
		return s.Export(u, o.Kind)
	case o.Definition.Exists():
		u, err := s.Check(o.Definition, o.Kind)
		if err != nil {
			return "", err
		}
		return s.Export(u, o.Kind)
	}
	return "", nil
}

// CheckConfig unifies v with #Config and validates it.
func (s *Schema) CheckConfig(v cue.Value) (cue.Value, error) {
	u := v.Unify(s.Def("#Config"))
	if err := u.Validate(cue.Concrete(true)); err != nil {
		return u, withUserPositions(err, v)
	}
	return u, nil
}

// Managed lists the kinds a connection of a checked configuration
// manages: those it lists, as a struct or a list (not absent, not null).
// Only these are pruned.
func Managed(u cue.Value, uri string) []Kind {
	c := u.LookupPath(cue.MakePath(cue.Str("connections"), cue.Str(uri)))
	var out []Kind
	for _, k := range []Kind{KindNetwork, KindPool, KindDomain} {
		v, _ := c.LookupPath(cue.ParsePath(string(k) + "s")).Default()
		if v.Exists() && (v.Kind() == cue.StructKind || v.Kind() == cue.ListKind) {
			out = append(out, k)
		}
	}
	return out
}

// Connections lists the URIs of a checked configuration, sorted, including
// those with no objects (whose owned objects are to be pruned).
func Connections(u cue.Value) []string {
	var uris []string
	it, err := u.LookupPath(cue.ParsePath("connections")).Fields()
	if err != nil {
		return nil
	}
	for it.Next() {
		uris = append(uris, it.Selector().Unquoted())
	}
	sort.Strings(uris)
	return uris
}

// Objects lists the objects of a checked configuration in apply order
// (networks, pools, volumes, domains), connections sorted by URI. dir
// resolves relative XML file paths.
func (s *Schema) Objects(u cue.Value, dir string) ([]Object, error) {
	var out []Object
	conns := u.LookupPath(cue.ParsePath("connections"))
	var uris []string
	it, err := conns.Fields()
	if err != nil {
		return nil, err
	}
	for it.Next() {
		uris = append(uris, it.Selector().Unquoted())
	}
	sort.Strings(uris)
	for _, k := range Kinds {
		for _, uri := range uris {
			c := conns.LookupPath(cue.MakePath(cue.Str(uri)))
			var objs []Object
			var err error
			switch k {
			case KindVolume:
				objs, err = s.volumes(c, uri, dir)
			default:
				objs, err = s.entries(c.LookupPath(cue.ParsePath(string(k)+"s")), uri, k, "", dir)
			}
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

func (s *Schema) volumes(c cue.Value, uri, dir string) ([]Object, error) {
	pools, err := s.entries(c.LookupPath(cue.ParsePath("pools")), uri, KindPool, "", dir)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, p := range pools {
		vs, err := s.entries(p.Entry.LookupPath(cue.ParsePath("volumes")), uri, KindVolume, p.Name, dir)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// entries reads a keyed struct or a NixVirt list of entries. In the keyed
// form the key names the object: a definition without a name takes it,
// one with another name is an error.
func (s *Schema) entries(v cue.Value, uri string, k Kind, pool, dir string) ([]Object, error) {
	v, _ = v.Default()
	if !v.Exists() || v.Kind() == cue.NullKind {
		return nil, nil
	}
	type item struct {
		key   string
		entry cue.Value
	}
	var items []item
	switch v.Kind() {
	case cue.ListKind:
		li, _ := v.List()
		for li.Next() {
			items = append(items, item{entry: li.Value()})
		}
	case cue.StructKind:
		it, _ := v.Fields()
		for it.Next() {
			items = append(items, item{key: it.Selector().Unquoted(), entry: it.Value()})
		}
	}
	var out []Object
	seen := map[string]cue.Value{}
	for _, it := range items {
		e, _ := it.entry.Default()
		o := Object{Connection: uri, Kind: k, Pool: pool, Entry: e, Name: it.key}
		if k == KindVolume && o.Name == "" {
			o.Name, _ = e.LookupPath(cue.ParsePath("name")).String()
		}
		def, _ := e.LookupPath(cue.ParsePath("definition")).Default()
		if b, err := e.LookupPath(cue.ParsePath("present")).Bool(); err == nil && !b && k != KindVolume {
			// present: false, with or without its definition: the object
			// is to be deleted, and its name is all that is needed.
			if o.Name == "" {
				o.Name, _ = e.LookupPath(cue.ParsePath("name")).String()
			}
			if o.Name == "" {
				o.Name, _ = def.LookupPath(cue.ParsePath("name")).String()
			}
			if o.Name == "" {
				return nil, newPathError(e, "an entry with present: false needs a name")
			}
			o.Absent = true
			out = append(out, o)
			continue
		}
		switch def.Kind() {
		case cue.StringKind:
			p, _ := def.String()
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			if _, err := os.Stat(p); err != nil {
				shown, _ := def.String()
				return nil, newPathError(def, "cannot read the %s definition: %s: no such file", k, shown)
			}
			o.XMLFile = p
			o.XMLName, _ = def.String()
			name, err := xmlName(p, o.XMLName, k)
			if err != nil {
				return nil, newPathError(def, "%v", err)
			}
			if o.Name != "" && name != o.Name {
				return nil, newPathError(def, "%s declares the name %q, but its entry is %q", p, name, o.Name)
			}
			o.Name = name
		case cue.StructKind:
			nv := def.LookupPath(cue.ParsePath("name"))
			if name, err := nv.String(); err == nil {
				if o.Name != "" && name != o.Name {
					return nil, newPathError(nv, "the definition is named %q, but its entry is %q", name, o.Name)
				}
				o.Name = name
			} else if o.Name != "" {
				def = def.FillPath(cue.ParsePath("name"), o.Name)
			}
			o.Definition = def
		default:
			// An entry with present: false needs only its name.
			if o.Name == "" {
				o.Name, _ = e.LookupPath(cue.ParsePath("name")).String()
			}
			present := e.LookupPath(cue.ParsePath("present"))
			if b, err := present.Bool(); err != nil || b {
				return nil, newPathError(e, "the entry has no definition (an entry with present: false needs only a name)")
			}
			if o.Name == "" {
				return nil, newPathError(e, "an entry with present: false needs a name")
			}
			o.Absent = true
		}
		if prev, ok := seen[o.Name]; ok {
			return nil, newPathError(e, "%s %q is declared twice on %s (also at %s)", k, o.Name, uri, prev.Pos())
		}
		seen[o.Name] = e
		out = append(out, o)
	}
	return out, nil
}

// xmlName reads the name of an object from its XML file; shown is the
// file as the configuration names it.
func xmlName(path, shown string, k Kind) (string, error) {
	data, err := ReadXMLFile(path, shown)
	if err != nil {
		return "", err
	}
	root, err := xmldoc.Parse(data)
	if err != nil {
		return "", fmt.Errorf("%s is not XML: %v", shown, err)
	}
	if rk, ok := KindOfRoot(root.Name); !ok || rk != k {
		return "", fmt.Errorf("%s holds <%s>, where a libvirt %s belongs", shown, root.Name, k)
	}
	if c := root.Child("name"); c != nil {
		return strings.TrimSpace(c.Text), nil
	}
	return "", fmt.Errorf("%s: the %s has no <name>", shown, k)
}

// Canonical is a document as libvirtxml reads and writes it: what the
// round-trip checks compare.
func Canonical(k Kind, doc string) (string, error) {
	d := newDocument(k)
	if err := d.Unmarshal(doc); err != nil {
		return "", err
	}
	return d.Marshal()
}
