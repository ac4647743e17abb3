package compiler

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	cuejson "cuelang.org/go/encoding/json"

	"nixvirt.dev/nixvirt/internal/testconfig"
)

// cueDocument compiles a CUE file of one document as the CUE path does
// (Run: the fast schema variant, then the exact one, which decides), with
// a worker's schemas.
func cueDocument(w *testWorker, in Input, k Kind) (string, error) {
	var out string
	err := w.run(func(s *Schema) error {
		v, err := s.Load(in, "")
		if err != nil {
			return err
		}
		u, err := s.Check(v, k)
		if err != nil {
			return err
		}
		out, err = s.Export(u, k)
		return err
	})
	return out, err
}

// cueConfig compiles a whole-host configuration in CUE as the CUE path
// does (plan and apply take the same path): the decoded configuration,
// with each object's XML by "kind/name".
func cueConfig(in Input) (*Config, map[string]string, error) {
	var cfg *Config
	var out map[string]string
	err := Run(func(s *Schema) error {
		out = map[string]string{}
		v, err := s.Load(in, "")
		if err != nil {
			return err
		}
		u, err := s.CheckConfig(v)
		if err != nil {
			return err
		}
		if cfg, err = s.Config(u, in.Dir); err != nil {
			return err
		}
		for _, o := range cfg.Objects {
			x, err := s.Compile(o)
			if err != nil {
				return err
			}
			out[string(o.Kind)+"/"+o.Name] = x
		}
		return nil
	})
	return cfg, out, err
}

// TestCUEValuesMatchSchema writes every document of equivalenceDocs, and
// mutations of each, as a CUE file and compiles it with the Go checker's
// CUE path and with the schema: whatever the fast path accepts, the schema
// accepts with the same XML, and a valid document without null (which CUE
// keeps and the fast path leaves to the schema) takes the fast path. One
// document in three, with its mutations, is also written as
// schemas.#Domain & {…} (its kind's definition), which the fast path
// evaluates with the light schema (cueimports.go).
func TestCUEValuesMatchSchema(t *testing.T) {
	docs := equivalenceDocs(t, mustSchema(t))
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	// What is compared is listed first, mutations drawn in the
	// documents' order, so that it is the same whichever worker takes it.
	type comparison struct {
		name          string
		k             Kind
		data          []byte
		mutated, wrap bool
		fast, light   bool // what it found
		compared      bool
	}
	var jobs []comparison
	rng := rand.New(rand.NewSource(2))
	corpus := os.Getenv("NIXVIRT_CORPUS")
	for i, name := range names {
		// TestGoCheckerMatchesSchema takes every corpus document; this
		// one, which compiles each twice more through CUE, takes one in
		// four of them, so that the package stays within its time.
		if corpus != "" && strings.HasPrefix(name, corpus) && i%4 != 0 {
			continue
		}
		k, data := docs[name].kind, docs[name].data
		wrap := i%3 == 0
		jobs = append(jobs, comparison{name: name, k: k, data: data})
		if wrap {
			jobs = append(jobs, comparison{name: name, k: k, data: data, wrap: true})
		}
		for j := 0; j < 2; j++ {
			if m, what := mutate(rng, data); m != nil {
				mname := fmt.Sprintf("%s (%s)", name, what)
				jobs = append(jobs, comparison{name: mname, k: k, data: m, mutated: true})
				if wrap {
					jobs = append(jobs, comparison{name: mname, k: k, data: m, mutated: true, wrap: true})
				}
			}
		}
	}
	inWorkers(t, len(jobs), func(w *testWorker, i int, f *failures) {
		c := &jobs[i]
		name, k, data, mutated, wrap := c.name, c.k, c.data, c.mutated, c.wrap
		x, err := cuejson.Extract("doc.json", data)
		if err != nil {
			return
		}
		src, err := FormatCUE(x, "")
		if err != nil {
			f.Errorf("%s: %v", name, err)
			return
		}
		if wrap {
			name += " (schemas." + k.Definition() + " & {…})"
			src = []byte("package doc\n\nimport \"nixvirt.dev/nixvirt/schemas\"\n\nschemas." + k.Definition() + " & {\n" + string(src) + "}\n")
		}
		if err := os.WriteFile(filepath.Join(w.dir, "doc.cue"), src, 0o644); err != nil {
			f.Errorf("%v", err)
			return
		}
		in := Input{Dir: w.dir, Args: []string{"doc.cue"}}
		got, ok := FastDocument(in, k)
		want, werr := cueDocument(w, in, k)
		c.compared, c.fast, c.light = true, ok, ok && wrap
		switch {
		case ok && werr != nil:
			f.Errorf("%s: the fast path accepts it, the schema does not (%v):\n%s", name, werr, src)
		case ok && got != want:
			f.Errorf("%s: the XML differs:\nGo:\n%s\nCUE:\n%s", name, got, want)
		case !ok && werr == nil && !mutated && !strings.Contains(string(data), "null"):
			// A mutation the schema still accepts (a field added where
			// the schema is open) may go the CUE way: only slower.
			f.Errorf("%s: the schema accepts it, the fast path leaves it to the schema:\n%s", name, src)
		}
	})
	compared, fast, light := 0, 0, 0
	for _, c := range jobs {
		if c.compared {
			compared++
		}
		if c.fast {
			fast++
		}
		if c.light {
			light++
		}
	}
	t.Logf("%d documents compared, %d taken by the fast path, %d of them with the light schema", compared, fast, light)
	if fast < 10 || light < 5 {
		t.Fatalf("only %d documents took the fast path, %d with the light schema", fast, light)
	}
}

// exampleHost is examples/host/host.cue.
func exampleHost(t *testing.T) string {
	data, err := os.ReadFile(filepath.Join("..", "examples", "host", "host.cue"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestCUEValuesConfig compiles whole-host configurations in CUE with the
// fast path and with the exact schema. Each case says whether the fast
// path takes it; when it does, the objects and XML are the schema's.
func TestCUEValuesConfig(t *testing.T) {
	const typical = `definition: {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}}`
	cases := []struct {
		name, src string
		fast      bool
	}{
		{"the benchmark's template", testconfig.DomainsTemplate(3), true},
		{"written out", testconfig.Domains(2), true},
		{"defaults in a document", `
#T: {#mem: *1 | int, definition: {type: "kvm", os: type: "hvm", memory: {count: #mem, unit: *"GiB" | "MiB"}}}
connections: "test:///default": domains: {a: #T & {#mem: 2}, b: #T & {definition: memory: unit: "MiB"}}`, true},
		{"a default the schema refuses", `
connections: "test:///default": domains: a: definition: {type: *"no-such-type" | "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}}`, false},
		{"entries and connections", `
connections: {
	"test:///default": {shutdownTimeout: 30, networks: lab: {definition: forward: mode: "nat", active: true}, domains: [{definition: {name: "web", type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}}}]}
	"qemu:///session": domains: {}
}`, true},
		{"definitions and hidden fields beside the values", `
#T: {#index: int, _note: "x", definition: {#size: 1, type: "kvm", os: type: "hvm", memory: {count: #size, unit: "GiB"}}}
connections: "test:///default": domains: web: #T & {#index: 1}`, true},
		{"a default for an entry's field", `
connections: "test:///default": domains: web: {` + typical + `, present: *false | bool}`, false},
		{"a value left open", `
connections: "test:///default": domains: web: definition: {type: "kvm", os: type: "hvm", memory: {count: int, unit: "GiB"}}`, false},
		{"an optional field", `
connections: "test:///default": domains: web: {` + typical + `, autostart?: bool}`, false},
		{"a null", `
connections: "test:///default": domains: web: definition: {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}, description: null}`, false},
		{"an error in a hidden field", `
_unused: 1 & 2
connections: "test:///default": domains: web: {` + typical + `}`, false},
		{"a template's argument left open", `
connections: "test:///default": domains: web: definition: {#args: {name: string}, type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}}`, false},
		{"a float", `
connections: "test:///default": domains: web: definition: {type: "kvm", os: type: "hvm", memory: {count: 1.5, unit: "GiB"}}`, false},
		{"nixvirt's schemas imported", `
import "nixvirt.dev/nixvirt/schemas"
schemas.#Config & {connections: "test:///default": domains: web: {` + typical + `}}`, true},
		// nixvirt's packages imported: the light schema (cueimports.go).
		{"each definition unified with the schema", testconfig.DomainsSchemaEach(2), true},
		{"one schemas.#Config", testconfig.DomainsSchemaConfig(2), true},
		{"nixvirt's Linux template", testconfig.DomainsNixvirtTemplate(2), true},
		{"the example host", exampleHost(t), true},
		{"every domain template and its forms of arguments", `
import "nixvirt.dev/nixvirt/templates"
let u = "c7a5fdbd-cdaf-9455-926a-d65c16db18"
connections: "test:///default": domains: {
	pc: definition: templates.#PC & {#args: {name: "pc", uuid: u + "01", install_vol: "/iso/debian.iso", virtio_video: false}}
	q35: definition: templates.#Q35 & {#args: {name: "q35", uuid: u + "02", storage_vol: "/var/lib/q35.qcow2", backing_vol: "/var/lib/base.qcow2", virtio_video: null}}
	linux: definition: templates.#Linux & {#args: {name: "linux", uuid: u + "03", storage_vol: {pool: "vms", volume: "l.qcow2"}, install_vol: {pool: "iso", volume: "d.iso"}}, memory: count: 8, devices: interface: mac: address: "52:54:00:00:00:03"}
	win: definition: templates.#Windows & {#args: {name: "win", uuid: u + "04", nvram_path: "/var/lib/win_VARS.fd", storage_vol: "/var/lib/win.qcow2", install_vol: "/iso/win.iso", install_virtio: true, secure_boot: true}}
}`, true},
		{"a bridge network from its template", `
import "nixvirt.dev/nixvirt/templates"
connections: "test:///default": networks: lab: definition: templates.#Bridge & {#args: {name: "lab", uuid: "5f0e8a47-66b2-4d59-9c3c-2f1b1c8e9d01", subnet_byte: 71}}`, true},
		{"NixVirt's list of entries", `
import "nixvirt.dev/nixvirt/schemas"
connections: "test:///default": domains: [{definition: schemas.#Domain & {name: "web", type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}}}]`, true},
		{"a schema definition embedded", `
import "nixvirt.dev/nixvirt/schemas"
connections: "test:///default": domains: web: definition: {schemas.#Domain, type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}}`, true},
		{"an unused definition the schema refuses", `
import "nixvirt.dev/nixvirt/schemas"
#x: schemas.#Domain & {noSuchField: 1}
connections: "test:///default": domains: web: {` + typical + `}`, false},
		{"a hidden field the schema refuses", `
import "nixvirt.dev/nixvirt/schemas"
_x: schemas.#Domain & {type: "no-such-type"}
connections: "test:///default": domains: web: {` + typical + `}`, false},
		{"a template of the user's built on the schema", `
import "nixvirt.dev/nixvirt/schemas"
#VM: schemas.#Domain & {type: "kvm", os: type: "hvm"}
connections: "test:///default": domains: web: definition: #VM & {memory: {count: 1, unit: "GiB"}}`, false},
		{"a comparison with _|_", `
import "nixvirt.dev/nixvirt/schemas"
connections: "test:///default": domains: web: definition: schemas.#Domain & {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}}
if (connections."test:///default".domains.web.definition & {noSuchField: 1}) == _|_ {connections: "test:///default": domains: db: {` + typical + `}}`, false},
		{"a field selected from a template", `
import "nixvirt.dev/nixvirt/templates"
connections: "test:///default": domains: web: definition: {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}, title: (templates.#Linux & {#args: {name: "web", uuid: "c7a5fdbd-cdaf-9455-926a-d65c16db1809"}, noSuchField: 1}).name}`, false},
		{"a reference to another document", `
import "nixvirt.dev/nixvirt/schemas"
connections: "test:///default": domains: {
	web: definition: schemas.#Domain & {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}}
	db: definition: {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}, title: (web.definition & {noSuchField: 1}).type}
}`, false},
		{"a schema definition in a disjunction", `
import "nixvirt.dev/nixvirt/schemas"
connections: "test:///default": domains: web: definition: *(schemas.#Domain & {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}, noSuchField: 1}) | {type: "kvm", os: type: "hvm", memory: {count: 2, unit: "GiB"}}`, false},
		{"a schema definition in a let", `
import "nixvirt.dev/nixvirt/schemas"
let D = schemas.#Domain
connections: "test:///default": domains: web: definition: D & {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}}`, false},
		{"a part of the grammar", `
import "nixvirt.dev/nixvirt/schemas"
connections: "test:///default": domains: web: definition: {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}, devices: schemas.#Domain_devices & {emulator: "/usr/bin/qemu-system-x86_64"}}`, false},
		{"a document of another kind's definition", `
import "nixvirt.dev/nixvirt/schemas"
connections: "test:///default": domains: web: definition: schemas.#Network & {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}}`, false},
		{"#Config's connection below the root", `
import "nixvirt.dev/nixvirt/schemas"
connections: "test:///default": schemas.#Connection & {domains: web: {` + typical + `}}`, false},
		{"a field a template's document does not have", `
import "nixvirt.dev/nixvirt/templates"
connections: "test:///default": domains: web: definition: templates.#Linux & {#args: {name: "web", uuid: "c7a5fdbd-cdaf-9455-926a-d65c16db1809"}, noSuchField: 1}`, false},
		{"an unknown field", `
connections: "test:///default": domains: web: definition: {type: "kvm", os: type: "hvm", memory: {count: 1, unit: "GiB"}, noSuchField: 1}`, false},
	}
	for _, c := range cases {
		dir := t.TempDir()
		src := c.src
		if !regexp.MustCompile(`(?m)^package `).MatchString(src) {
			src = "package host\n" + src
		}
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(src+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		in := Input{Dir: dir, Args: []string{"host.cue"}}
		cfg, ok := FastConfig(in, "")
		if ok != c.fast {
			t.Errorf("%s: the fast path takes it: %v, want %v", c.name, ok, c.fast)
		}
		slow, want, werr := cueConfig(in)
		if !ok {
			continue
		}
		if werr != nil {
			t.Errorf("%s: the fast path accepts it, the schema does not: %v", c.name, werr)
			continue
		}
		if !reflect.DeepEqual(cfg.Connections, slow.Connections) {
			t.Errorf("%s: connections differ:\nGo:  %+v\nCUE: %+v", c.name, cfg.Connections, slow.Connections)
		}
		for i, f := range cfg.Objects {
			if i >= len(slow.Objects) {
				break
			}
			o := slow.Objects[i]
			if f.Connection != o.Connection || f.Kind != o.Kind || f.Name != o.Name || f.Pool != o.Pool || !reflect.DeepEqual(f.Entry, o.Entry) {
				t.Errorf("%s: object %d differs:\nGo:  %s %s %q %q %+v\nCUE: %s %s %q %q %+v", c.name, i,
					f.Connection, f.Kind, f.Name, f.Pool, f.Entry, o.Connection, o.Kind, o.Name, o.Pool, o.Entry)
			}
		}
		got := map[string]string{}
		for _, o := range cfg.Objects {
			got[string(o.Kind)+"/"+o.Name] = o.Compiled
		}
		if len(got) != len(want) {
			t.Errorf("%s: objects %d from the fast path, %d from the schema", c.name, len(got), len(want))
		}
		for key, x := range want {
			if got[key] != x {
				t.Errorf("%s: %s: XML differs:\nGo:\n%s\nCUE:\n%s", c.name, key, got[key], x)
			}
		}
	}
}
