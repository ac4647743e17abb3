package compiler

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/internal/testconfig"
)

// TestDefinitionsInEntries: a CUE user's definitions and hidden fields
// (a template's #index, _note) inside a #Config, at every level, are
// accepted by both variants of the schema and leave no trace in the XML.
// (TestCUEValuesConfig has the Go checker take them too.)
func TestDefinitionsInEntries(t *testing.T) {
	const src = `package host
#top: 1
_top: 1
connections: "test:///default": {
	#conn: 1
	domains: web: {#index: 1, _note: "x", definition: {#size: 1, _n: 2, type: "test", os: {#o: 1, type: "hvm"}, memory: {count: #size, unit: "GiB"}}}
	domains: db: {#index: 2, definition: {type: "test", os: type: "hvm", devices: disk: [{#i: 0, type: "file", device: "disk", source: file: "/d.img", target: dev: "vda"}]}}
	networks: [{#index: 1, definition: {#x: 1, name: "lab", forward: mode: "nat"}}]
	pools: p: {#index: 1, definition: {#x: 1, type: "dir", target: path: "/x"}, volumes: v: {#index: 1, definition: {#x: 1, capacity: count: 1}}}
	secrets: s: {#index: 1, definition: {#y: 1, usage: {type: "volume", volume: "/x"}}}
}
`
	in := writeHost(t, src)
	s, err := LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	exact, err := s.Precise()
	if err != nil {
		t.Fatal(err)
	}
	var xml []string
	for _, sc := range []*Schema{s, exact} {
		v, err := sc.Load(in, "")
		if err != nil {
			t.Fatal(err)
		}
		u, err := sc.CheckConfig(v)
		if err != nil {
			t.Fatalf("precise %v: %v", sc.precise, err)
		}
		cfg, err := sc.Config(u, in.Dir)
		if err != nil {
			t.Fatalf("precise %v: %v", sc.precise, err)
		}
		var all strings.Builder
		for _, o := range cfg.Objects {
			x, err := sc.Compile(o)
			if err != nil {
				t.Fatalf("precise %v: %s %s: %v", sc.precise, o.Kind, o.Name, err)
			}
			all.WriteString(x)
		}
		xml = append(xml, all.String())
	}
	if xml[0] != xml[1] {
		t.Errorf("the two variants write different XML:\n%s\n%s", xml[0], xml[1])
	}
	if strings.Contains(xml[0], "index") || len(xml[0]) == 0 {
		t.Errorf("a definition reached the XML, or nothing was written:\n%s", xml[0])
	}
}

// TestConfigErrorsPerEntry: the exact schema's errors of a configuration
// are those of every entry, in the configuration's order, each at its own
// path and line, also when entries share a mistake (checked once).
func TestConfigErrorsPerEntry(t *testing.T) {
	var b strings.Builder
	b.WriteString("package host\nconnections: \"test:///default\": domains: [\n")
	for i := 0; i < 12; i++ {
		b.WriteString("\t{definition: {type: \"kvm\", os: type: \"hvm\", memory: {count: 1, unit: \"GiB\"}}},\n")
	}
	b.WriteString("\t{definition: {name: \"ok\", type: \"kvm\", os: type: \"hvm\", on_reboot: \"boom\"}},\n]\n")
	in := writeHost(t, b.String())
	s, err := LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	exact, err := s.Precise()
	if err != nil {
		t.Fatal(err)
	}
	v, err := exact.Load(in, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = exact.CheckConfig(v)
	got := Report(err, in.Dir)
	if len(got) != 13 {
		t.Fatalf("%d errors, want 13: %+v", len(got), got)
	}
	for i, p := range got[:12] {
		want := `connections."test:///default".domains.` + itoa(i) + `.definition.name`
		if p.Path != want || p.Message != "field is required but not present" || len(p.Positions) != 1 || !strings.HasPrefix(p.Positions[0], "./host.cue:"+itoa(i+3)+":") {
			t.Errorf("error %d: %+v, want %s at line %d", i, p, want, i+3)
		}
	}
	if last := got[12]; last.Path != `connections."test:///default".domains.12.definition.on_reboot` || !strings.HasPrefix(last.Positions[0], "./host.cue:15:") {
		t.Errorf("last error: %+v", last)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// writeHost writes src as host.cue in a new directory: the input of a
// command line that names it.
func writeHost(t *testing.T, src string) Input {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return Input{Dir: dir, Args: []string{"host.cue"}}
}

// BenchmarkConfigErrors measures the exact schema's errors for a
// configuration of n typical domains (NixVirt's list form) whose
// definitions all lack their name, as a settings file written without
// them gives: every entry is an error, which the exact check explains.
// The schema is compiled before the clock starts.
func BenchmarkConfigErrors(b *testing.B) {
	s, err := LoadSchema()
	if err != nil {
		b.Fatal(err)
	}
	exact, err := s.Precise()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 20, 100} {
		var doms []any
		for i := 0; i < n; i++ {
			d := testconfig.Domain(i)
			delete(d, "name")
			doms = append(doms, map[string]any{"active": true, "restart": nil, "definition": d})
		}
		data, err := json.Marshal(map[string]any{"connections": map[string]any{"qemu:///system": map[string]any{"domains": doms}}})
		if err != nil {
			b.Fatal(err)
		}
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "host.json"), data, 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("domains=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				v, err := exact.Load(Input{Dir: dir, Args: []string{"host.json"}}, "")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := exact.CheckConfig(v); len(Report(err, dir)) != n {
					b.Fatalf("%d errors, want %d", len(Report(err, dir)), n)
				}
			}
		})
	}
}

// TestEntriesWrongAlike: entries wrong in the same way under different
// keys are checked as one part, and each error is still reported at its
// own entry's value, not at the first entry's or at a label.
func TestEntriesWrongAlike(t *testing.T) {
	s, err := mustSchema(t).Precise()
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	src := strings.ReplaceAll(testconfig.Domains(n), `placement: "static"`, `placement: "statik"`)
	in := writeHost(t, src)
	v, err := s.Load(in, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CheckConfig(v)
	got := Report(err, in.Dir)
	if len(got) != n {
		t.Fatalf("%d errors, want %d: %v", len(got), n, got)
	}
	lines := strings.Split(src, "\n")
	for i, p := range got {
		want := `connections."qemu:///system".domains.vm` + itoa(i) + `.definition.vcpu.placement`
		if p.Path != want || len(p.Positions) != 1 {
			t.Fatalf("error %d: %+v, want one at %s", i, p, want)
		}
		var line, col int
		if _, err := fmt.Sscanf(strings.TrimPrefix(p.Positions[0], "./host.cue:"), "%d:%d", &line, &col); err != nil {
			t.Fatalf("error %d: position %q", i, p.Positions[0])
		}
		// Each domain is 16 lines, its vcpu the fifth.
		if at := lines[line-1][col-1:]; line != 6+16*i || !strings.HasPrefix(at, `"statik"`) {
			t.Errorf("error %d at %s: %q, want vm%d's value \"statik\"", i, p.Positions[0], at, i)
		}
	}
}

// TestExplainingReleasesEvaluation: the errors of many wrong entries keep
// nothing of the exact schema's unification of each (a few tens of
// megabytes an entry), so that explaining a large configuration takes
// the memory of one entry's check, not of all.
func TestExplainingReleasesEvaluation(t *testing.T) {
	s, err := mustSchema(t).Precise()
	if err != nil {
		t.Fatal(err)
	}
	// Each entry wrong in its own way: every one is checked.
	var b strings.Builder
	b.WriteString("connections: \"test:///default\": domains: {\n")
	for i := 0; i < 12; i++ {
		fmt.Fprintf(&b, "d%d: definition: {type: \"test\", memory: {count: 1, unit: \"GiB\"}, os: type: \"hvm\", vcpu: placement: \"p%d\"}\n", i, i)
	}
	b.WriteString("}\n")
	v := s.Context().CompileString(b.String(), cue.Filename("host.cue"))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err, _ = s.configErrors(v, "")
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := len(Report(err, "")); n != 12 {
		t.Fatalf("%d errors, want 12", n)
	}
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 64<<20 {
		t.Errorf("the errors keep %d MB", grown>>20)
	}
	runtime.KeepAlive(err)
}

// TestExplainedEntriesBounded: entries each wrong in its own way are
// explained up to a bound, each at its value, and a last line says how
// many more were not checked.
func TestExplainedEntriesBounded(t *testing.T) {
	s, err := mustSchema(t).Precise()
	if err != nil {
		t.Fatal(err)
	}
	n := maxWrongParts + 8
	var b strings.Builder
	b.WriteString("connections: \"test:///default\": domains: {\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "d%d: definition: {type: \"test\", memory: {count: 1, unit: \"GiB\"}, os: type: \"hvm\", vcpu: placement: \"p%d\"}\n", i, i)
	}
	b.WriteString("}\n")
	in := writeHost(t, b.String())
	v, err := s.Load(in, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CheckConfig(v)
	got := Report(err, in.Dir)
	if len(got) != maxWrongParts+1 {
		t.Fatalf("%d errors, want %d", len(got), maxWrongParts+1)
	}
	for i, p := range got[:maxWrongParts] {
		if p.Path != `connections."test:///default".domains.d`+itoa(i)+`.definition.vcpu.placement` || len(p.Positions) != 1 || !strings.HasPrefix(p.Positions[0], "./host.cue:"+itoa(i+2)+":") {
			t.Errorf("error %d: %+v", i, p)
		}
	}
	want := Problem{Message: "and 8 more entries not checked: fix the mistakes above and run vet again"}
	if last := got[maxWrongParts]; !reflect.DeepEqual(last, want) {
		t.Errorf("last: %+v, want %+v", last, want)
	}
}
