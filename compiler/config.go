package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/compiler/gocheck"
	"nixvirt.dev/nixvirt/internal/reported"
	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// Object is one libvirt object of a whole-host configuration.
type Object struct {
	Connection string
	Kind       Kind
	Name       string
	Pool       string // for volumes: the pool they belong to
	Entry      Entry  // what the entry says besides the definition
	// Definition is the CUE definition, not yet checked against its kind
	// (Compile does that, one object at a time, so that a large
	// configuration never holds every checked document at once); or, when
	// the entry names an XML file, the zero Value and XMLFile set.
	Definition cue.Value
	XMLFile    string
	// XMLName is the file as the configuration names it, for messages.
	XMLName string
	// Compiled is the XML when the Go checker already compiled the
	// definition (FastConfig).
	Compiled string
	// Reported lists what libvirt reports of the storage that the XML
	// file holds (`virsh vol-dumpxml` output: sizes, file times): Compile
	// leaves it out, and the command says so.
	Reported []string
}

// Entry, Connection and the provisioning settings are package gocheck's
// (entry.go there), which decodes them from JSON without CUE.
type (
	Entry       = gocheck.Entry
	Connection  = gocheck.Connection
	Content     = gocheck.Content
	SecretValue = gocheck.SecretValue
	VolumeRef   = gocheck.VolumeRef
	CloudInit   = gocheck.CloudInit
	WaitFor     = gocheck.WaitFor
)

// Config is a checked whole-host configuration, decoded.
type Config struct {
	// Owner is the configuration's owner, "" when it names none (the
	// caller decides the default, and --owner wins).
	Owner string
	// Connections are sorted by URI; a connection without objects is
	// there too (its owned objects are to be pruned).
	Connections []Connection
	// Objects are in apply order (see Objects).
	Objects []Object
}

// Config decodes a checked configuration (from CheckConfig); dir
// resolves relative XML file paths.
func (s *Schema) Config(u cue.Value, dir string) (*Config, error) {
	objs, err := s.Objects(u, dir)
	if err != nil {
		return nil, err
	}
	cfg := &Config{Objects: objs}
	if o := u.LookupPath(cue.ParsePath("owner")); o.Exists() {
		if cfg.Owner, err = o.String(); err != nil {
			return nil, newPathError(o, "owner: %v", err)
		}
	}
	for _, uri := range connectionURIs(u) {
		c := u.LookupPath(cue.MakePath(cue.Str("connections"), cue.Str(uri)))
		timeout, err := s.connectionTimeout(c)
		if err != nil {
			return nil, err
		}
		cfg.Connections = append(cfg.Connections, Connection{URI: uri, Managed: managedKinds(u, uri), ShutdownTimeout: timeout})
	}
	return cfg, nil
}

// CheckOwner checks an owner name given outside a configuration (the
// --owner flag) against the schema's #Owner.
func (s *Schema) CheckOwner(name string) error { return CheckOwnerName(name) }

// OwnerPattern is schemas/config.cue's #Owner, for the command line's
// --owner, which the fast path checks without a schema
// (TestOwnerPatternIsTheSchemas keeps the two the same).
const OwnerPattern = "^[a-z0-9][a-z0-9._-]*$"

var ownerName = regexp.MustCompile(OwnerPattern)

// CheckOwnerName checks an owner's name (--owner).
func CheckOwnerName(name string) error {
	if !ownerName.MatchString(name) {
		return fmt.Errorf("owner %q: lowercase letters, digits, '.', '_' and '-', beginning with a letter or a digit", name)
	}
	return nil
}

// connectionTimeout is a connection's shutdownTimeout, or the schema's
// default when it has none (the fast variant checks connections with
// validators, which fill in no defaults).
func (s *Schema) connectionTimeout(c cue.Value) (int, error) {
	v := c.LookupPath(cue.ParsePath("shutdownTimeout"))
	if !v.Exists() {
		v = s.Def("#Connection").LookupPath(cue.ParsePath("shutdownTimeout"))
	}
	v, _ = v.Default()
	n, err := v.Int64()
	if err != nil {
		return 0, newPathError(v, "shutdownTimeout: %v", err)
	}
	return int(n), nil
}

// decodeEntry reads an entry's settings; a field the entry leaves out
// takes the schema's default (the fast variant checks entries with
// validators, which fill in none).
func (s *Schema) decodeEntry(e cue.Value, k Kind, connTimeout int) (Entry, error) {
	def := s.Def(k.Info().EntryDefinition)
	var failed error
	// boolean reads a field as the entry and the schema together have it:
	// nil when it is absent (the schema giving no default) or null ("leave
	// as is"). A value left open is an error, never false: a user's default
	// that the schema's own meets (present: *false | bool against *true)
	// leaves no default at all, and false would delete the object.
	boolean := func(name string) *bool {
		// With the schema's field: the entry may not have met it (the
		// exact check goes a part at a time).
		v, sv := e.LookupPath(cue.ParsePath(name)), def.LookupPath(cue.ParsePath(name))
		if !v.Exists() {
			v = sv
		} else if sv.Exists() {
			v = v.Unify(sv)
		}
		d, _ := v.Default()
		if !d.Exists() || d.IsNull() {
			return nil
		}
		b, err := d.Bool()
		if err != nil {
			if failed == nil {
				failed = newPathError(v, "%s: %v is not one value: give true or false", name, v)
			}
			return nil
		}
		return &b
	}
	// withDefault is a field the schema gives a default.
	withDefault := func(name string) bool {
		b := boolean(name)
		return b != nil && *b
	}
	en := Entry{
		Present: withDefault("present"), Active: boolean("active"), Restart: boolean("restart"),
		Autostart: boolean("autostart"), ShutdownTimeout: connTimeout,
	}
	if k == KindDomain || k == KindNetwork {
		en.Live = withDefault("live")
	}
	if k == KindDomain {
		en.KeepNvram, en.KeepTPM = withDefault("keepNvram"), withDefault("keepTpm")
		if t := e.LookupPath(cue.ParsePath("shutdownTimeout")); t.Exists() {
			n, err := t.Int64()
			if err != nil {
				return en, newPathError(t, "shutdownTimeout: %v", err)
			}
			en.ShutdownTimeout = int(n)
		}
	}
	return en, failed
}

// Compile checks an object's definition against its kind and returns its
// libvirt XML; "" for a volume entry that only says present: false. The
// objects of FastConfig need no schema: s may be nil for them.
func (s *Schema) Compile(o Object) (string, error) {
	switch {
	case o.Compiled != "":
		return o.Compiled, nil
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
		root, err := ParseXML(name, data)
		if err != nil {
			return "", err
		}
		reported.RemoveStorageReport(root)
		k, x, err := s.importAt(name, o.XMLFile, data, root)
		if err != nil {
			return "", err
		}
		if k != o.Kind {
			return "", fmt.Errorf("%s: a %s, where a %s belongs", name, k, o.Kind)
		}
		v := s.ctx.BuildExpr(x)
		u, err := s.Check(v, o.Kind)
		if err != nil {
			return "", err
		}
		return s.Export(u, o.Kind)
	case o.Definition.Exists():
		if j, ok := cueData(o.Definition, true); ok && s.precise {
			// What the Go checker accepts it writes as the fast schema
			// would (the equivalence tests compare the two), without the
			// exact schema's cost per definition: the exact variant runs
			// to explain a mistake, perhaps in another object.
			if x, ok := gocheck.Document(j, o.Kind); ok {
				return x, nil
			}
		}
		u, err := s.Check(o.Definition, o.Kind)
		if err != nil {
			return "", err
		}
		return s.Export(u, o.Kind)
	}
	return "", nil
}

// CheckConfig unifies v with #Config and validates it.
func (s *Schema) CheckConfig(v cue.Value) (cue.Value, error) { return s.CheckConfigIn(v, "") }

// CheckConfigIn is CheckConfig, where dir is the working directory: the
// exact variant reads the XML files v's entries name too (relative to the
// files that name them, or to dir), so that every missing one is reported,
// with the schema's errors, rather than the first once they are fixed.
func (s *Schema) CheckConfigIn(v cue.Value, dir string) (cue.Value, error) {
	if s.precise {
		// Every mistake, each entry's in its own words; and fast.
		err, checked := s.configErrors(v, dir)
		if err != nil {
			return v, err
		}
		if fast, ferr := LoadSchema(); checked && ferr == nil && fast.ctx == s.ctx {
			// Valid, as the exact schema says part by part: decoded
			// through the fast variant's unification, which costs nothing
			// (the exact one costs each entry a few hundred milliseconds);
			// Compile checks the definitions.
			if u, err := fast.CheckConfig(v); err == nil {
				return u, nil
			}
		}
	}
	u := v.Unify(s.Def("#Config"))
	if err := u.Validate(cue.Concrete(true)); err != nil {
		return u, userErrors(err, v, u)
	}
	return u, nil
}

// managedKinds lists the kinds a connection of a checked configuration
// manages: those it lists, as a struct or a list (not absent, not null).
// Only these are pruned.
func managedKinds(u cue.Value, uri string) []Kind {
	c := u.LookupPath(cue.MakePath(cue.Str("connections"), cue.Str(uri)))
	var out []Kind
	for _, k := range TopLevelKinds {
		v, _ := c.LookupPath(cue.ParsePath(k.Plural())).Default()
		if v.Exists() && (v.Kind() == cue.StructKind || v.Kind() == cue.ListKind) {
			out = append(out, k)
		}
	}
	return out
}

// connectionURIs lists the URIs of a checked configuration, sorted, including
// those with no objects (whose owned objects are to be pruned).
func connectionURIs(u cue.Value) []string {
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
// (networks, pools, volumes, domains), connections sorted by URI. A
// relative XML file path is relative to the file that names it; dir is the
// working directory, against which the input's file names are.
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
	timeouts := map[string]int{}
	for _, uri := range uris {
		if timeouts[uri], err = s.connectionTimeout(conns.LookupPath(cue.MakePath(cue.Str(uri)))); err != nil {
			return nil, err
		}
	}
	for _, k := range Kinds {
		for _, uri := range uris {
			c := conns.LookupPath(cue.MakePath(cue.Str(uri)))
			var objs []Object
			var err error
			switch {
			case !k.Info().TopLevel:
				objs, err = s.volumes(c, uri, dir, timeouts[uri])
			default:
				objs, _, err = s.entries(c.LookupPath(cue.ParsePath(k.Plural())), uri, k, "", dir, timeouts[uri])
			}
			if err != nil {
				return nil, err
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

func (s *Schema) volumes(c cue.Value, uri, dir string, timeout int) ([]Object, error) {
	pools, raw, err := s.entries(c.LookupPath(cue.ParsePath(KindPool.Plural())), uri, KindPool, "", dir, timeout)
	if err != nil {
		return nil, err
	}
	var out []Object
	for i, p := range pools {
		vs, _, err := s.entries(raw[i].LookupPath(cue.ParsePath(KindVolume.Plural())), uri, KindVolume, p.Name, dir, timeout)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	return out, nil
}

// entries reads a keyed struct or a NixVirt list of entries. In the keyed
// form the key names the object: a definition without a name takes it,
// one with another name is an error. It returns the entries' values
// beside the objects, for a pool's volumes.
func (s *Schema) entries(v cue.Value, uri string, k Kind, pool, dir string, timeout int) ([]Object, []cue.Value, error) {
	v, _ = v.Default()
	if !v.Exists() || v.Kind() == cue.NullKind {
		return nil, nil, nil
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
	var raw []cue.Value
	seen := map[string]cue.Value{}
	// accept keeps an object after the checks every entry passes, one to
	// delete too: a name libvirt takes, declared once (an object both
	// deleted and defined is a contradiction, not an order).
	accept := func(o Object, e cue.Value) error {
		if why := gocheck.BadName(o.Name); why != "" {
			return newPathError(e, "%s name %q: %s", k, o.Name, why)
		}
		if prev, ok := seen[o.Name]; ok {
			return newPathError(e, "%s %q is declared twice on %s (also at %s)", k, o.Name, uri, prev.Pos())
		}
		seen[o.Name] = e
		out = append(out, o)
		raw = append(raw, e)
		return nil
	}
	for _, it := range items {
		e, _ := it.entry.Default()
		en, err := s.decodeEntry(e, k, timeout)
		if err != nil {
			return nil, nil, err
		}
		if err := s.decodeProvisioning(e, k, dir, &en); err != nil {
			return nil, nil, err
		}
		o := Object{Connection: uri, Kind: k, Pool: pool, Entry: en, Name: it.key}
		if n := e.LookupPath(cue.ParsePath("name")); it.key != "" && n.Exists() {
			// The schema's {name: Name}, which a check a part at a time
			// may not have met.
			d, _ := n.Default()
			if name, err := d.String(); err != nil || name != it.key {
				return nil, nil, newPathError(n, "name: %v is not the entry's key %q: in the keyed form the key names the object", n, it.key)
			}
		}
		if (k == KindVolume || k.Info().Unnamed) && o.Name == "" {
			o.Name, _ = e.LookupPath(cue.ParsePath("name")).String()
		}
		if k.Info().Unnamed && o.Name == "" {
			return nil, nil, newPathError(e, "a %s entry needs a name: a libvirt %s has none of its own", k, k)
		}
		def, _ := e.LookupPath(cue.ParsePath("definition")).Default()
		if !en.Present && k != KindVolume {
			// present: false, with or without its definition: the object
			// is to be deleted, and its name is all that is needed.
			if o.Name == "" {
				o.Name, _ = e.LookupPath(cue.ParsePath("name")).String()
			}
			if o.Name == "" {
				o.Name, _ = def.LookupPath(cue.ParsePath("name")).String()
			}
			if o.Name == "" {
				return nil, nil, newPathError(e, "an entry with present: false needs a name")
			}
			if err := accept(o, e); err != nil {
				return nil, nil, err
			}
			continue
		}
		switch def.Kind() {
		case cue.StringKind:
			x, err := readXMLDefinition(def, k, o.Name, dir)
			if err != nil {
				return nil, nil, err
			}
			o.XMLFile, o.XMLName, o.Reported = x.path, x.shown, x.reported
			if !k.Info().Unnamed {
				o.Name = x.name
			}
		case cue.StructKind:
			if k.Info().Unnamed {
				o.Definition = def
				break
			}
			nv := def.LookupPath(cue.ParsePath("name"))
			if name, err := nv.String(); err == nil {
				if o.Name != "" && name != o.Name {
					return nil, nil, newPathError(nv, "the definition is named %q, but its entry is %q", name, o.Name)
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
			if en.Present {
				return nil, nil, newPathError(e, "the entry has no definition (an entry with present: false needs only a name)")
			}
			if o.Name == "" {
				return nil, nil, newPathError(e, "an entry with present: false needs a name")
			}
		}
		if err := accept(o, e); err != nil {
			return nil, nil, err
		}
	}
	return out, raw, nil
}

// xmlDefinition is what an entry's definition that names an XML file
// says.
type xmlDefinition struct {
	path, shown string   // the file's path, and as the configuration names it
	name        string   // the object's name in it ("" for a kind without)
	reported    []string // see Object.Reported
}

// readXMLDefinition reads the XML file an entry's definition def names
// (relative to the file that names it; dir is the working directory),
// of an object of kind k that the entry names entryName ("" for none).
func readXMLDefinition(def cue.Value, k Kind, entryName, dir string) (xmlDefinition, *pathError) {
	shown, _ := def.String()
	p := shown
	if !filepath.IsAbs(p) {
		p = filepath.Join(fileDir(def, dir), p)
	}
	if _, err := os.Stat(p); err != nil {
		return xmlDefinition{}, newPathError(def, "cannot read the %s definition: %s: no such file", k, shown)
	}
	name, reported, err := xmlName(p, shown, k)
	if err != nil {
		return xmlDefinition{}, newPathError(def, "%v", err)
	}
	if !k.Info().Unnamed && entryName != "" && name != entryName {
		return xmlDefinition{}, newPathError(def, "%s declares the name %q, but its entry is %q", p, name, entryName)
	}
	return xmlDefinition{path: p, shown: shown, name: name, reported: reported}, nil
}

// xmlName reads the name of an object from its XML file, and what of
// its storage libvirt reports there (see Object.Reported); shown is the
// file as the configuration names it.
func xmlName(path, shown string, k Kind) (string, []string, error) {
	data, err := ReadXMLFile(path, shown)
	if err != nil {
		return "", nil, err
	}
	root, err := xmldoc.Parse(data)
	if err != nil {
		return "", nil, fmt.Errorf("%s is not XML: %v", shown, err)
	}
	if rk, ok := KindOfRoot(root.Name); !ok || rk != k {
		return "", nil, fmt.Errorf("%s holds <%s>, where a libvirt %s belongs", shown, root.Name, k)
	}
	if k.Info().Unnamed {
		return "", nil, nil
	}
	storage := reported.RemoveStorageReport(root)
	if c := root.Child("name"); c != nil {
		return strings.TrimSpace(c.Text), storage, nil
	}
	return "", nil, fmt.Errorf("%s: the %s has no <name>", shown, k)
}

// Canonical is a document as libvirtxml reads and writes it: what the
// round-trip checks compare.
func Canonical(k Kind, doc string) (string, error) {
	d := gocheck.NewDocument(k)
	if err := d.Unmarshal(doc); err != nil {
		return "", err
	}
	return d.Marshal()
}
