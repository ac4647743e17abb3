package compiler

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"

	"cuelang.org/go/cue"
)

// The hot path for valid JSON: a document, a whole-host configuration or
// NixVirt's settings file (or CUE that evaluates to plain values, see
// cuevalues.go), read by the Go checker (gocheck.go) and written
// to XML with no CUE evaluation and no schema compiled. Whenever it is not
// sure, it answers ok == false and the caller takes the CUE path (Run),
// which decides and explains; so this path never reports an error itself,
// and it only has to be right about what it accepts.

// FastDocument compiles a single JSON document of kind k (`--kind`), or
// reports false.
func FastDocument(in Input, k Kind) (string, bool) {
	root, ok := readFastJSON(in, false)
	if !ok {
		root, ok = readFastCUE(in, k)
	}
	if !ok {
		return "", false
	}
	return fastCompile(root, k)
}

// FastConfig checks a whole-host configuration in JSON, or with uri set
// NixVirt's settings file for that connection, and compiles every
// definition (Object.Compiled); it reports false when it is not sure,
// including for definitions that are XML files.
func FastConfig(in Input, uri string) (*Config, bool) {
	root, ok := readFastJSON(in, uri != "")
	if !ok && uri == "" {
		root, ok = readFastCUE(in, "")
	}
	if !ok || root.kind != jObject {
		return nil, false
	}
	var conns *jval
	if uri != "" {
		// A kind NixVirt's module writes as null is not managed: absent
		// (readFastJSON dropped it).
		conns = &jval{kind: jObject, keys: []string{uri}, vals: []*jval{root}}
	} else {
		for _, k := range root.keys {
			if k != "connections" {
				return nil, false
			}
		}
		conns = root.get("connections")
		if conns == nil {
			conns = &jval{kind: jObject}
		}
	}
	return fastConfig(conns)
}

// readFastJSON reads the one JSON file of a command line; a settings
// file is JSON whatever its name, and may be stdin.
func readFastJSON(in Input, settings bool) (*jval, bool) {
	if len(in.Args) != 1 || (!settings && !allJSON(in.Args)) {
		return nil, false
	}
	name := in.Args[0]
	if name == "-" {
		if !settings {
			return nil, false
		}
		return parseInput(in.Stdin)
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(in.Dir, name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, false
	}
	return parseInput(data)
}

// parseInput parses a file and drops its null fields, as loadJSON and
// LoadSettings do.
func parseInput(data []byte) (*jval, bool) {
	v, ok := parseJSON(data)
	if ok {
		dropNulls(v)
	}
	return v, ok
}

func fastCompile(def *jval, k Kind) (string, bool) {
	root := &xmlNode{name: k.Info().Root}
	if !goBuild(def, goDefs[k.Definition()], root) {
		return "", false
	}
	out, err := finishXML(root, k, cue.Value{})
	return out, err == nil
}

var connectionURI = regexp.MustCompile(`^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|[a-zA-Z0-9_-]+$)`)

func fastConfig(conns *jval) (*Config, bool) {
	if conns.kind != jObject {
		return nil, false
	}
	cfg := &Config{}
	type conn struct {
		uri     string
		v       *jval
		timeout int
	}
	var cs []conn
	for i, uri := range conns.keys {
		c := conns.vals[i]
		if !connectionURI.MatchString(uri) || c.kind != jObject {
			return nil, false
		}
		timeout := 60
		var managed []Kind
		for j, key := range c.keys {
			v := c.vals[j]
			switch key {
			case "shutdownTimeout":
				n, ok := nonNegative(v)
				if !ok {
					return nil, false
				}
				timeout = n
			case "domains", "networks", "pools":
				if v.kind != jObject && v.kind != jArray {
					return nil, false
				}
			default:
				return nil, false
			}
		}
		for _, k := range TopLevelKinds {
			if c.get(k.Plural()) != nil {
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
				pools, raw, ok := fastEntries(c.v.get(KindPool.Plural()), c.uri, KindPool, "", c.timeout)
				if !ok {
					return nil, false
				}
				for i, p := range pools {
					vs, _, ok := fastEntries(raw[i].get(KindVolume.Plural()), c.uri, KindVolume, p.Name, c.timeout)
					if !ok {
						return nil, false
					}
					cfg.Objects = append(cfg.Objects, vs...)
				}
				continue
			}
			objs, _, ok := fastEntries(c.v.get(k.Plural()), c.uri, k, "", c.timeout)
			if !ok {
				return nil, false
			}
			cfg.Objects = append(cfg.Objects, objs...)
		}
	}
	return cfg, true
}

func nonNegative(v *jval) (int, bool) {
	if v.kind != jNumber || !isIntLiteral(v.s) || !numberWithin(v.s, []gCons{{">=", "0"}, {"<=", "2147483647"}}) {
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
func fastEntries(v *jval, uri string, k Kind, pool string, timeout int) ([]Object, []*jval, bool) {
	if v == nil {
		return nil, nil, true
	}
	type item struct {
		key   string
		entry *jval
	}
	var items []item
	switch v.kind {
	case jArray:
		for _, e := range v.items {
			items = append(items, item{entry: e})
		}
	case jObject:
		for i, key := range v.keys {
			if badName(key) != "" {
				return nil, nil, false
			}
			items = append(items, item{key: key, entry: v.vals[i]})
		}
	default:
		return nil, nil, false
	}
	var out []Object
	var raw []*jval
	seen := map[string]bool{}
	for _, it := range items {
		e := it.entry
		if e.kind != jObject {
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
		var def *jval
		entryName := ""
		for i, key := range e.keys {
			fv := e.vals[i]
			typ, ok := entryFields[k][key]
			if !ok {
				return nil, nil, false
			}
			var b *bool
			switch typ {
			case "bool":
				if fv.kind != jBool {
					return nil, nil, false
				}
				x := fv.b
				b = &x
			case "uint":
				n, ok := nonNegative(fv)
				if !ok {
					return nil, nil, false
				}
				en.ShutdownTimeout = n
			case "name":
				if fv.kind != jString || badName(fv.s) != "" || (it.key != "" && fv.s != it.key) {
					return nil, nil, false
				}
				entryName = fv.s
			case "def":
				if fv.kind != jObject && fv.kind != jString {
					return nil, nil, false
				}
				def = fv
			case "entries":
				if fv.kind != jObject && fv.kind != jArray {
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
		if def != nil && def.kind == jObject {
			nv := def.get("name")
			switch {
			case nv != nil && nv.kind == jString:
				if o.Name != "" && nv.s != o.Name {
					return nil, nil, false
				}
			case nv != nil:
				// A number for a name: CUE's error, or its own rules.
				return nil, nil, false
			case it.key != "":
				// The key names the definition (#Config's {name: Name}).
				def = &jval{kind: jObject, keys: append([]string{"name"}, def.keys...),
					vals: append([]*jval{{kind: jString, s: it.key}}, def.vals...)}
			}
		}
		if !en.Present && k != KindVolume {
			if o.Name == "" {
				o.Name = entryName
			}
			if o.Name == "" && def != nil && def.kind == jObject {
				if nv := def.get("name"); nv != nil {
					o.Name = nv.s
				}
			}
			if o.Name == "" {
				return nil, nil, false
			}
			// The definition of an object to delete is checked all the
			// same, so that what the Go checker accepts the schema does.
			if def != nil && def.kind == jObject {
				if _, ok := fastCompile(def, k); !ok {
					return nil, nil, false
				}
			}
			out = append(out, o)
			raw = append(raw, e)
			continue
		}
		switch {
		case def != nil && def.kind == jString:
			// An XML file: import and the schema, on the CUE path.
			return nil, nil, false
		case def != nil:
			if nv := def.get("name"); nv != nil {
				o.Name = nv.s
			}
			x, ok := fastCompile(def, k)
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
		if badName(o.Name) != "" || seen[o.Name] {
			return nil, nil, false
		}
		seen[o.Name] = true
		out = append(out, o)
		raw = append(raw, e)
	}
	return out, raw, true
}
