package gocheck

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// The hot path for valid JSON: a document, a whole-host configuration or
// NixVirt's settings file, read by the Go checker (check.go) and written
// to XML with no CUE evaluation and no schema compiled. Whenever it is not
// sure, it answers ok == false and the caller takes the CUE path
// (compiler.Run), which decides and explains; so this path never reports
// an error itself, and it only has to be right about what it accepts.

// Config is a whole-host configuration as the Go checker decodes it:
// package compiler's Config but for what only the CUE path decodes.
type Config struct {
	// Connections are sorted by URI.
	Connections []Connection
	// Objects are in apply order, each definition compiled.
	Objects []Object
}

// Object is one object of a Config.
type Object struct {
	Connection string
	Kind       Kind
	Name       string
	Pool       string // for volumes: the pool they belong to
	Entry      Entry
	// Compiled is the definition's XML; "" for an entry without one (an
	// object to delete).
	Compiled string
}

// ReadJSON reads the one JSON file of a command line (arguments relative
// to dir; "-" is stdin, given), or reports false. A settings file is JSON
// whatever its name, and may be stdin.
func ReadJSON(dir string, args []string, stdin []byte, settings bool) (*Value, bool) {
	if len(args) != 1 || (!settings && !AllJSON(args)) {
		return nil, false
	}
	name := args[0]
	if name == "-" {
		if !settings {
			return nil, false
		}
		return parseInput(stdin)
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, false
	}
	return parseInput(data)
}

// AllJSON reports whether every argument is a .json file.
func AllJSON(args []string) bool {
	for _, a := range args {
		if !strings.HasSuffix(a, ".json") {
			return false
		}
	}
	return true
}

// parseInput parses a file and drops its null fields, as the CUE path's
// loader does.
func parseInput(data []byte) (*Value, bool) {
	v, ok := ParseJSON(data)
	if ok {
		DropNulls(v)
	}
	return v, ok
}

// Document checks a document of kind k (`--kind`) and writes its XML, or
// reports false.
func Document(def *Value, k Kind) (string, bool) {
	root := &Node{Name: k.Info().Root}
	if !goBuild(def, goDefs[k.Definition()], root) {
		return "", false
	}
	out, err := Finish(root, k)
	return out, err == nil
}

// ConfigOf checks a whole-host configuration, or with uri set NixVirt's
// settings file for that connection, and compiles every definition
// (Object.Compiled); it reports false when it is not sure, including for
// definitions that are XML files.
func ConfigOf(root *Value, uri string) (*Config, bool) {
	if root.Type != ObjectValue {
		return nil, false
	}
	var conns *Value
	if uri != "" {
		// A kind NixVirt's module writes as null is not managed: absent
		// (ReadJSON dropped it).
		conns = &Value{Type: ObjectValue, Keys: []string{uri}, Vals: []*Value{root}}
	} else {
		for _, k := range root.Keys {
			if k != "connections" {
				return nil, false
			}
		}
		conns = root.Get("connections")
		if conns == nil {
			conns = &Value{Type: ObjectValue}
		}
	}
	return fastConfig(conns)
}

// EntriesAccepted reports whether the Go checker accepts the entries of
// kind k (an object of them by key, or a list), definitions and all (a
// pool's volumes aside): what it accepts, the exact schema does.
func EntriesAccepted(entries *Value, k Kind) bool {
	_, _, ok := fastEntries(entries, "", k, "", 0)
	return ok
}

var connectionURI = regexp.MustCompile(`^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|[a-zA-Z0-9_-]+$)`)

func fastConfig(conns *Value) (*Config, bool) {
	if conns.Type != ObjectValue {
		return nil, false
	}
	cfg := &Config{}
	type conn struct {
		uri     string
		v       *Value
		timeout int
	}
	var cs []conn
	for i, uri := range conns.Keys {
		c := conns.Vals[i]
		if !connectionURI.MatchString(uri) || c.Type != ObjectValue {
			return nil, false
		}
		timeout := 60
		var managed []Kind
		for j, key := range c.Keys {
			v := c.Vals[j]
			switch key {
			case "shutdownTimeout":
				n, ok := nonNegative(v)
				if !ok {
					return nil, false
				}
				timeout = n
			case "domains", "networks", "pools":
				if v.Type != ObjectValue && v.Type != ArrayValue {
					return nil, false
				}
			default:
				return nil, false
			}
		}
		for _, k := range TopLevelKinds {
			if c.Get(k.Plural()) != nil {
				managed = append(managed, k)
			}
		}
		cs = append(cs, conn{uri, c, timeout})
		cfg.Connections = append(cfg.Connections, Connection{URI: uri, Managed: managed, ShutdownTimeout: timeout})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].uri < cs[j].uri })
	sort.Slice(cfg.Connections, func(i, j int) bool { return cfg.Connections[i].URI < cfg.Connections[j].URI })
	for _, k := range Kinds {
		for _, c := range cs {
			if k == KindVolume {
				pools, raw, ok := fastEntries(c.v.Get(KindPool.Plural()), c.uri, KindPool, "", c.timeout)
				if !ok {
					return nil, false
				}
				for i, p := range pools {
					vs, _, ok := fastEntries(raw[i].Get(KindVolume.Plural()), c.uri, KindVolume, p.Name, c.timeout)
					if !ok {
						return nil, false
					}
					cfg.Objects = append(cfg.Objects, vs...)
				}
				continue
			}
			objs, _, ok := fastEntries(c.v.Get(k.Plural()), c.uri, k, "", c.timeout)
			if !ok {
				return nil, false
			}
			cfg.Objects = append(cfg.Objects, objs...)
		}
	}
	return cfg, true
}

func nonNegative(v *Value) (int, bool) {
	if v.Type != NumberValue || !isIntLiteral(v.S) || !numberWithin(v.S, []gCons{{">=", "0"}, {"<=", "2147483647"}}) {
		return 0, false
	}
	x, ok := scalarText(v, "")
	if !ok {
		return 0, false
	}
	var n int
	for _, c := range x {
		n = n*10 + int(c-'0')
	}
	return n, true
}

// entryFields are the fields of each kind's entry (#DomainEntry, …) and
// what each takes.
var entryFields = map[Kind]map[string]string{
	KindDomain:  {"definition": "def", "present": "bool", "name": "name", "active": "bool", "restart": "bool", "autostart": "bool", "live": "bool", "shutdownTimeout": "uint", "keepNvram": "bool", "keepTpm": "bool"},
	KindNetwork: {"definition": "def", "present": "bool", "name": "name", "active": "bool", "restart": "bool", "autostart": "bool", "live": "bool"},
	KindPool:    {"definition": "def", "present": "bool", "name": "name", "active": "bool", "restart": "bool", "autostart": "bool", "volumes": "entries"},
	KindVolume:  {"definition": "def", "present": "bool", "name": "name"},
}

// fastEntries is Objects' entries for the Go checker: the checks of
// #Config's entries and the decoding of Objects, each definition
// compiled. It returns the entries' values beside the objects.
func fastEntries(v *Value, uri string, k Kind, pool string, timeout int) ([]Object, []*Value, bool) {
	if v == nil {
		return nil, nil, true
	}
	type item struct {
		key   string
		entry *Value
	}
	var items []item
	switch v.Type {
	case ArrayValue:
		for _, e := range v.Items {
			items = append(items, item{entry: e})
		}
	case ObjectValue:
		for i, key := range v.Keys {
			if BadName(key) != "" {
				return nil, nil, false
			}
			items = append(items, item{key: key, entry: v.Vals[i]})
		}
	default:
		return nil, nil, false
	}
	var out []Object
	var raw []*Value
	seen := map[string]bool{}
	for _, it := range items {
		e := it.entry
		if e.Type != ObjectValue {
			return nil, nil, false
		}
		// The defaults of schemas/config.cue; TestFastConfigMatchesCUE
		// compares the two decodings. Fields only the CUE path decodes
		// (content, cloudInit, waitFor, …) are not in entryFields: an
		// entry with one takes that path.
		en := Entry{Present: true, ShutdownTimeout: timeout, Live: k == KindDomain || k == KindNetwork}
		if k == KindDomain {
			en.KeepNvram, en.KeepTPM = true, true
		}
		var def *Value
		entryName := ""
		for i, key := range e.Keys {
			fv := e.Vals[i]
			typ, ok := entryFields[k][key]
			if !ok {
				return nil, nil, false
			}
			var b *bool
			switch typ {
			case "bool":
				if fv.Type != BoolValue {
					return nil, nil, false
				}
				x := fv.B
				b = &x
			case "uint":
				n, ok := nonNegative(fv)
				if !ok {
					return nil, nil, false
				}
				en.ShutdownTimeout = n
			case "name":
				if fv.Type != StringValue || BadName(fv.S) != "" || (it.key != "" && fv.S != it.key) {
					return nil, nil, false
				}
				entryName = fv.S
			case "def":
				if fv.Type != ObjectValue && fv.Type != StringValue {
					return nil, nil, false
				}
				def = fv
			case "entries":
				if fv.Type != ObjectValue && fv.Type != ArrayValue {
					return nil, nil, false
				}
			}
			switch key {
			case "present":
				en.Present = *b
			case "active":
				en.Active = b
			case "restart":
				en.Restart = b
			case "autostart":
				en.Autostart = b
			case "keepNvram":
				en.KeepNvram = *b
			case "keepTpm":
				en.KeepTPM = *b
			case "live":
				en.Live = *b
			}
		}
		o := Object{Connection: uri, Kind: k, Pool: pool, Entry: en, Name: it.key}
		if k == KindVolume && o.Name == "" {
			o.Name = entryName
		}
		if def != nil && def.Type == ObjectValue {
			nv := def.Get("name")
			switch {
			case nv != nil && nv.Type == StringValue:
				if o.Name != "" && nv.S != o.Name {
					return nil, nil, false
				}
			case nv != nil:
				// A number for a name: CUE's error, or its own rules.
				return nil, nil, false
			case it.key != "":
				// The key names the definition (#Config's {name: Name}).
				def = &Value{Type: ObjectValue, Keys: append([]string{"name"}, def.Keys...),
					Vals: append([]*Value{{Type: StringValue, S: it.key}}, def.Vals...)}
			}
		}
		if !en.Present && k != KindVolume {
			if o.Name == "" {
				o.Name = entryName
			}
			if o.Name == "" && def != nil && def.Type == ObjectValue {
				if nv := def.Get("name"); nv != nil {
					o.Name = nv.S
				}
			}
			if o.Name == "" {
				return nil, nil, false
			}
			// The definition of an object to delete is checked all the
			// same, so that what the Go checker accepts the schema does.
			if def != nil && def.Type == ObjectValue {
				if _, ok := Document(def, k); !ok {
					return nil, nil, false
				}
			}
			out = append(out, o)
			raw = append(raw, e)
			continue
		}
		switch {
		case def != nil && def.Type == StringValue:
			// An XML file: import and the schema, on the CUE path.
			return nil, nil, false
		case def != nil:
			if nv := def.Get("name"); nv != nil {
				o.Name = nv.S
			}
			x, ok := Document(def, k)
			if !ok {
				return nil, nil, false
			}
			o.Compiled = x
		default:
			if o.Name == "" {
				o.Name = entryName
			}
			if en.Present || o.Name == "" {
				return nil, nil, false
			}
		}
		if BadName(o.Name) != "" || seen[o.Name] {
			return nil, nil, false
		}
		seen[o.Name] = true
		out = append(out, o)
		raw = append(raw, e)
	}
	return out, raw, true
}
