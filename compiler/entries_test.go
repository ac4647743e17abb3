package compiler

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"
)

// decodeConfig checks src as a #Config and decodes it, as plan and export
// do; dir is the working directory.
func decodeConfig(t *testing.T, s *Schema, src, dir string) (*Config, error) {
	t.Helper()
	v := s.Context().CompileString(src, cue.Filename(filepath.Join(dir, "host.cue")))
	u, err := s.CheckConfig(v)
	if err != nil {
		return nil, err
	}
	return s.Config(u, dir)
}

// summary is what a user sees of the objects: kind, pool, name, and the
// entry's settings.
func summary(objs []Object) []string {
	var out []string
	for _, o := range objs {
		name := o.Name
		if o.Pool != "" {
			name = o.Pool + "/" + name
		}
		e := o.Entry
		flag := func(b *bool) string {
			if b == nil {
				return "-"
			}
			return fmt.Sprint(*b)
		}
		out = append(out, fmt.Sprintf("%s %s %s present=%v active=%s restart=%s autostart=%s timeout=%d nvram=%v tpm=%v",
			o.Connection, o.Kind, name, e.Present, flag(e.Active), flag(e.Restart), flag(e.Autostart), e.ShutdownTimeout, e.KeepNvram, e.KeepTPM))
	}
	return out
}

// TestKeyedAndListEntries: NixVirt's list of entries and the keyed struct
// describe the same objects, with the same defaults from the schema, in
// both schema variants.
func TestKeyedAndListEntries(t *testing.T) {
	keyed := `
connections: "test:///default": {
	shutdownTimeout: 30
	networks: lab: {definition: {bridge: name: "virbr-ct0"}, active: true}
	pools: vms: {
		definition: {type: "dir", target: path: "/tmp/ct"}
		volumes: {
			"a.qcow2": definition: capacity: {count: 1, unit: "GiB"}
			"old.qcow2": present: false
		}
	}
	domains: {
		web: {definition: {type: "test", os: type: "hvm"}, restart: false, shutdownTimeout: 5}
		gone: {present: false, keepNvram: false}
	}
}
connections: "test:///other": {}
`
	list := `
connections: "test:///default": {
	shutdownTimeout: 30
	networks: [{definition: {name: "lab", bridge: name: "virbr-ct0"}, active: true}]
	pools: [{
		definition: {name: "vms", type: "dir", target: path: "/tmp/ct"}
		volumes: [
			{definition: {name: "a.qcow2", capacity: {count: 1, unit: "GiB"}}},
			{name: "old.qcow2", present: false},
		]
	}]
	domains: [
		{definition: {name: "web", type: "test", os: type: "hvm"}, restart: false, shutdownTimeout: 5},
		{name: "gone", present: false, keepNvram: false},
	]
}
connections: "test:///other": {}
`
	want := []string{
		"test:///default network lab present=true active=true restart=- autostart=- timeout=30 nvram=false tpm=false",
		"test:///default pool vms present=true active=- restart=- autostart=- timeout=30 nvram=false tpm=false",
		"test:///default volume vms/a.qcow2 present=true active=- restart=- autostart=- timeout=30 nvram=false tpm=false",
		"test:///default volume vms/old.qcow2 present=false active=- restart=- autostart=- timeout=30 nvram=false tpm=false",
		"test:///default domain web present=true active=- restart=false autostart=- timeout=5 nvram=true tpm=true",
		"test:///default domain gone present=false active=- restart=- autostart=- timeout=30 nvram=false tpm=true",
	}
	for _, s := range bothSchemas(t) {
		for name, src := range map[string]string{"keyed": keyed, "list": list} {
			t.Run(variant(s)+"/"+name, func(t *testing.T) {
				cfg, err := decodeConfig(t, s, src, t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				got := summary(cfg.Objects)
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				wantConns := []Connection{
					{URI: "test:///default", Managed: []Kind{KindNetwork, KindPool, KindDomain}, ShutdownTimeout: 30},
					{URI: "test:///other", ShutdownTimeout: 60},
				}
				if !reflect.DeepEqual(cfg.Connections, wantConns) {
					t.Errorf("connections %+v, want %+v", cfg.Connections, wantConns)
				}
				// A keyed definition takes its key as its name: the XML says so.
				for _, o := range cfg.Objects {
					if o.Kind == KindDomain && o.Name == "web" {
						x, err := s.Compile(o)
						if err != nil {
							t.Fatal(err)
						}
						if !strings.Contains(x, "<name>web</name>") {
							t.Errorf("web's XML has no name:\n%s", x)
						}
					}
					if !o.Entry.Present {
						// Nothing to write for an object to delete.
						if x, err := s.Compile(o); x != "" || err != nil {
							t.Errorf("%s %s (present: false) compiles to %q, %v", o.Kind, o.Name, x, err)
						}
					}
				}
			})
		}
	}
}

// errorAt checks that err is about the value at path (a prefix of the
// error's path; "" for any) and points at file:line.
func errorAt(t *testing.T, err error, path, fileLine string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one at %s %s", path, fileLine)
	}
	for _, e := range cueerrors.Errors(err) {
		p := strings.Join(e.Path(), ".")
		if path != "" && p != path && !strings.HasPrefix(p, path+".") {
			continue
		}
		for _, pos := range cueerrors.Positions(e) {
			if fmt.Sprintf("%s:%d", filepath.Base(pos.Filename()), pos.Line()) == fileLine {
				return
			}
		}
	}
	t.Errorf("want an error at %s, %s; got:\n%s", path, fileLine, printed(err))
}

// printed is err as the user sees it.
func printed(err error) string {
	var b strings.Builder
	PrintError(&b, err, "")
	return b.String()
}

// TestEntryMistakes: a mistake in an entry is an error at the user's line,
// in whichever variant finds it (the fast one checks entries with
// validators, so some of these reach the decoder).
func TestEntryMistakes(t *testing.T) {
	const dom = `{type: "test", os: type: "hvm"}`
	for _, tc := range []struct {
		name, src string
		path      string // the error's value path
		line      int
		says      string // what the message names
	}{
		{name: "key and name disagree",
			src:  "connections: \"test:///default\": domains: web: definition: {\n\tname: \"db\", type: \"test\", os: type: \"hvm\"}",
			path: `connections."test:///default".domains.web.definition.name`, line: 2, says: "db"},
		{name: "declared twice in a list",
			src:  "connections: \"test:///default\": networks: [\n\t{definition: name: \"lab\"},\n\t{definition: name: \"lab\"},\n]",
			path: `connections."test:///default".networks.1`, line: 3, says: "declared twice"},
		{name: "twice by name and by definition",
			src:  "connections: \"test:///default\": domains: [\n\t{name: \"a\", present: false},\n\t{definition: {name: \"a\", type: \"test\", os: type: \"hvm\"}},\n]",
			path: `connections."test:///default".domains.1`, line: 3, says: "declared twice"},
		{name: "slash in a list name",
			src:  "connections: \"test:///default\": networks: [{definition: {name: \"a/b\"}}]",
			path: `connections."test:///default".networks.0`, line: 1, says: "/"},
		{name: "newline in a list name",
			src:  "connections: \"test:///default\": networks: [{definition: {name: \"a\\nb\"}}]",
			path: `connections."test:///default".networks.0`, line: 1, says: "newline"},
		{name: "dot-dot volume in a list",
			src:  "connections: \"test:///default\": pools: p: {definition: {type: \"dir\", target: path: \"/x\"}, volumes: [\n\t{definition: {name: \"..\", capacity: count: 1}}]}",
			path: `connections."test:///default".pools.p.volumes.0`, line: 2, says: ".."},
		{name: "no name in a list entry",
			src:  "connections: \"test:///default\": domains: [\n\t{definition: " + dom + "}]",
			path: `connections."test:///default".domains.0`, line: 2, says: "name"},
		{name: "present: false without a name",
			src:  "connections: \"test:///default\": networks: [\n\t{present: false}]",
			path: `connections."test:///default".networks.0`, line: 2, says: "name"},
		{name: "no definition",
			src:  "connections: \"test:///default\": pools: [\n\t{name: \"p\"}]",
			path: `connections."test:///default".pools.0`, line: 2, says: "definition"},
		{name: "negative shutdownTimeout",
			src:  "connections: \"test:///default\": domains: d: {definition: " + dom + "\n\tshutdownTimeout: -1}",
			path: `connections."test:///default".domains.d.shutdownTimeout`, line: 2, says: "-1"},
	} {
		for _, s := range bothSchemas(t) {
			t.Run(variant(s)+"/"+tc.name, func(t *testing.T) {
				_, err := decodeConfig(t, s, tc.src, t.TempDir())
				errorAt(t, err, tc.path, fmt.Sprintf("host.cue:%d", tc.line))
				if err != nil && !strings.Contains(printed(err), tc.says) {
					t.Errorf("error %q does not name %q", printed(err), tc.says)
				}
			})
		}
	}
}

const legacyXML = `<domain type="test">
  <name>legacy</name>
  <memory unit="MiB">128</memory>
  <os><type>hvm</type></os>
</domain>
`

// TestXMLDefinitions: an entry's definition may be a libvirt XML file,
// relative to the file that names it (CUE or JSON), wherever the command
// runs; its <name> names the object, and it goes through the schema like a
// CUE definition.
func TestXMLDefinitions(t *testing.T) {
	root := writeTree(t, t.TempDir(), map[string]string{
		"host/host.cue": `package host

connections: "test:///default": domains: {
	legacy: definition: "./legacy.xml"
	web: definition: {type: "test", os: type: "hvm"}
}
`,
		"host/host.json":     `{"connections": {"test:///default": {"domains": [{"definition": "legacy.xml"}]}}}`,
		"host/settings.json": `{"domains": [{"definition": "./legacy.xml"}], "networks": null, "pools": null}`,
		"host/legacy.xml":    legacyXML,
		"elsewhere/x":        "",
	})
	cwd := filepath.Join(root, "elsewhere")
	for _, s := range bothSchemas(t) {
		for _, tc := range []struct {
			name     string
			args     []string
			settings bool
		}{
			{name: "cue package", args: []string{"../host"}},
			{name: "json", args: []string{"../host/host.json"}},
			{name: "settings", args: []string{"../host/settings.json"}, settings: true},
		} {
			t.Run(variant(s)+"/"+tc.name, func(t *testing.T) {
				in := Input{Dir: cwd, Args: tc.args}
				var v cue.Value
				var err error
				if tc.settings {
					v, err = s.LoadSettings(in, "")
					v = s.Context().CompileString("{}").FillPath(cue.MakePath(cue.Str("connections"), cue.Str("test:///default")), v)
				} else {
					v, err = s.Load(in, "")
				}
				if err != nil {
					t.Fatal(err)
				}
				u, err := s.CheckConfig(v)
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := s.Config(u, cwd)
				if err != nil {
					t.Fatal(err)
				}
				var legacy *Object
				for i, o := range cfg.Objects {
					if o.Name == "legacy" {
						legacy = &cfg.Objects[i]
					}
				}
				if legacy == nil {
					t.Fatalf("no object named by the XML file's <name>: %v", summary(cfg.Objects))
				}
				if want := filepath.Join(root, "host", "legacy.xml"); legacy.XMLFile != want {
					t.Errorf("XMLFile = %q, want %q (next to the file that names it)", legacy.XMLFile, want)
				}
				x, err := s.Compile(*legacy)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := Canonical(KindDomain, legacyXML)
				if x != want+"\n" {
					t.Errorf("XML definition compiles to\n%s\nwant\n%s", x, want)
				}
			})
		}
	}
}

// TestXMLDefinitionMistakes: an XML file that cannot be the entry's object
// is an error at the entry's definition; one that libvirt would not take is
// an error naming the XML file's line.
func TestXMLDefinitionMistakes(t *testing.T) {
	dir := writeTree(t, t.TempDir(), map[string]string{
		"web.xml":    strings.Replace(legacyXML, "legacy", "web", 1),
		"vol.xml":    "<volume><name>v</name></volume>\n",
		"noname.xml": "<domain type=\"test\">\n  <os><type>hvm</type></os>\n</domain>\n",
		"notes.txt":  "not a libvirt document\n",
		"dot.xml":    strings.Replace(legacyXML, "legacy", ".", 1),
		"bogus.xml":  "<domain type=\"test\">\n  <name>bogus</name>\n  <os><type>hvm</type></os>\n  <devices>\n    <bogus/>\n  </devices>\n</domain>\n",
	})
	def := `connections."test:///default".domains`
	for _, tc := range []struct {
		name, src string
		path      string
		says      string
	}{
		{name: "missing", src: `domains: [{definition: "nowhere.xml"}]`, path: def + ".0.definition", says: "nowhere.xml"},
		{name: "another kind", src: `domains: [{definition: "vol.xml"}]`, path: def + ".0.definition", says: "<volume>"},
		{name: "not XML", src: `domains: [{definition: "notes.txt"}]`, path: def + ".0.definition", says: "notes.txt"},
		{name: "no name", src: `domains: [{definition: "noname.xml"}]`, path: def + ".0.definition", says: "<name>"},
		{name: "key disagrees", src: `domains: db: definition: "web.xml"`, path: def + ".db.definition", says: `"db"`},
		{name: "refused name", src: `domains: [{definition: "dot.xml"}]`, path: def + ".0", says: `"."`},
		{name: "twice", src: `domains: [{definition: "web.xml"}, {definition: "./web.xml"}]`, path: def + ".1", says: "twice"},
	} {
		for _, s := range bothSchemas(t) {
			t.Run(variant(s)+"/"+tc.name, func(t *testing.T) {
				_, err := decodeConfig(t, s, `connections: "test:///default": `+tc.src, dir)
				errorAt(t, err, tc.path, "host.cue:1")
				if err != nil && !strings.Contains(printed(err), tc.says) {
					t.Errorf("error %q does not name %q", printed(err), tc.says)
				}
			})
		}
	}

	// What the schema has no place for names the XML file's line.
	s := mustSchema(t)
	cfg, err := decodeConfig(t, s, `connections: "test:///default": domains: [{definition: "bogus.xml"}]`, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Compile(cfg.Objects[0])
	if err == nil || !strings.HasPrefix(err.Error(), "bogus.xml:5:") || !strings.Contains(err.Error(), "<bogus>") {
		t.Errorf("unknown element in an XML definition: %v", err)
	}
	// A file that changed kind between reading the entry and compiling it.
	o := cfg.Objects[0]
	o.Kind, o.XMLFile, o.XMLName = KindNetwork, filepath.Join(dir, "web.xml"), "web.xml"
	if _, err := s.Compile(o); err == nil || !strings.Contains(err.Error(), "web.xml") {
		t.Errorf("a domain file for a network: %v", err)
	}
}

// TestParseKind: --kind takes the four kinds and names them when it does
// not; the kinds' ranks and metadata are what apply relies on.
func TestParseKind(t *testing.T) {
	for _, k := range Kinds {
		if got, err := ParseKind(string(k)); got != k || err != nil {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, err)
		}
	}
	if _, err := ParseKind("machine"); err == nil || err.Error() != `unknown kind "machine": want domain, network, pool, volume or secret` {
		t.Errorf("ParseKind(machine): %v", err)
	}
	if !(KindNetwork.Order() < KindVolume.Order() && KindPool.Order() < KindVolume.Order() && KindVolume.Order() < KindDomain.Order()) {
		t.Errorf("orders: network %d pool %d volume %d domain %d", KindNetwork.Order(), KindPool.Order(), KindVolume.Order(), KindDomain.Order())
	}
	if !KindDomain.HasMetadata() || !KindNetwork.HasMetadata() || KindPool.HasMetadata() {
		t.Error("domains and networks have <metadata>, pools do not")
	}
}
