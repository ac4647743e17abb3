package compiler

import (
	"io/fs"
	"sort"
	"testing"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"

	"nixvirt.dev/nixvirt/schemas"
)

// TestLightSchemaDefinesAll holds the light schema package to the exact
// one: the same files, each defining the same definitions, so that a
// package that refers to any of them evaluates with either.
func TestLightSchemaDefinesAll(t *testing.T) {
	light := lightSchemaFiles()
	for _, name := range cueFiles(schemas.Files, ".") {
		src, err := fs.ReadFile(schemas.Files, name)
		if err != nil {
			t.Fatal(err)
		}
		want := definitionsOf(t, name, src)
		got := definitionsOf(t, "light "+name, light[name])
		if len(want) == 0 || !equalStrings(got, want) {
			t.Errorf("%s: the light package defines %d definitions, the exact one %d (%v…)", name, len(got), len(want), firstOf(want))
		}
	}
	if len(light) != len(cueFiles(schemas.Files, ".")) {
		t.Errorf("the light package has %d files, the exact one %d", len(light), len(cueFiles(schemas.Files, ".")))
	}
}

func definitionsOf(t *testing.T, name string, src []byte) []string {
	t.Helper()
	f, err := parser.ParseFile(name, src)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.Field); ok {
			label, _, err := ast.LabelName(fd.Label)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out = append(out, label)
		}
	}
	sort.Strings(out)
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func firstOf(s []string) []string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}

// TestLightSyntax checks the rules for the user's files one by one: a
// file the rules refuse takes the exact path (TestCUEValuesConfig
// compiles whole configurations both ways).
func TestLightSyntax(t *testing.T) {
	const head = "package host\nimport \"nixvirt.dev/nixvirt/schemas\"\nimport \"list\"\n"
	cases := []struct {
		name, src string
		ok        bool
	}{
		{"a conjunct of a field", `a: schemas.#Domain & {type: "kvm"}`, true},
		{"an embedding", `a: {schemas.#Domain, type: "kvm"}`, true},
		{"the root", `schemas.#Config & {connections: {}}`, true},
		{"a definition, a let, a comprehension, the standard library", `
#T: {#n: int, type: "kvm"}
let L = [1, 2]
a: {for i in L {"d\(i)": definition: schemas.#Domain & #T & {#n: i}}}
b: list.Concat([L, L])`, true},
		{"under a definition", `#VM: schemas.#Domain & {type: "kvm"}`, false},
		{"under a definition, deeper", `#VM: {definition: schemas.#Domain}`, false},
		{"under a hidden field", `_vm: {definition: schemas.#Domain}`, false},
		{"in a let's struct", `let V = {definition: schemas.#Domain}
a: V`, false},
		{"a field selected", `a: (schemas.#Domain & {type: "kvm"}).type`, false},
		{"a selection into a definition", `a: schemas.#Domain.type`, false},
		{"a disjunction", `a: schemas.#Domain | {}`, false},
		{"a list", `a: [schemas.#Domain]`, false},
		{"a let", `let D = schemas.#Domain
a: D`, false},
		{"not a definition", `a: schemas.foo`, false},
		{"_|_", `a: 1
b: a != _|_`, false},
		{"a reference to a regular field", `a: 1
b: a`, false},
		{"a reference to a regular field of another file", `b: a`, false},
		{"an alias", `X=a: 1
b: X`, false},
		{"an import with a qualifier", `import q "nixvirt.dev/nixvirt/templates:templates"
a: q.#Linux.devices`, false},
		{"a reference to a hidden field", `_a: 1
b: _a`, true},
	}
	for _, c := range cases {
		f, err := parser.ParseFile("host.cue", head+c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		other, err := parser.ParseFile("other.cue", "package host\na: 2\n")
		if err != nil {
			t.Fatal(err)
		}
		files := []*ast.File{f}
		if c.name == "a reference to a regular field of another file" {
			files = append(files, other)
		}
		if got := lightSyntax(files); got != c.ok {
			t.Errorf("%s: lightSyntax = %v, want %v", c.name, got, c.ok)
		}
	}
}
