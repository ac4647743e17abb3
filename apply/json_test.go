package apply

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/internal/jsondoc"
)

// TestJSONDocs checks docs/json.md against the code: its examples are
// documents of this format version with the fields the renderers write,
// and it describes every action, reason and problem code.
func TestJSONDocs(t *testing.T) {
	doc, err := os.ReadFile("../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(doc, -1)
	wantKeys := []string{
		"errors format_version valid",
		"changes errors format_version kept summary unmanaged",
		"addresses applied changes errors failures format_version kept summary unmanaged",
		"format_version objects",
	}
	if len(blocks) != len(wantKeys) {
		t.Fatalf("%d examples, want %d (vet, plan, apply, status)", len(blocks), len(wantKeys))
	}
	for i, b := range blocks {
		var m map[string]any
		if err := json.Unmarshal(b[1], &m); err != nil {
			t.Fatalf("example %d: %v", i, err)
		}
		if m["format_version"] != jsondoc.FormatVersion {
			t.Errorf("example %d: format_version %v, want %s", i, m["format_version"], jsondoc.FormatVersion)
		}
		var keys []string
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if got := strings.Join(keys, " "); got != wantKeys[i] {
			t.Errorf("example %d: fields %q, want %q", i, got, wantKeys[i])
		}
	}
	for _, code := range constants(t, "Action", "ReasonCode", "ProblemCode") {
		if !strings.Contains(string(doc), "`"+code+"`") {
			t.Errorf("docs/json.md does not describe %q", code)
		}
	}
}

// constants are the values of the string constants of the named types in
// plan.go and the files that add steps to plans.
func constants(t *testing.T, types ...string) []string {
	var out []string
	for _, file := range []string{"plan.go", "volumes.go", "wait.go", "seedprune.go", "secrets.go"} {
		out = append(out, constantsIn(t, file, types...)...)
	}
	if len(out) < 30 {
		t.Fatalf("found only %d codes", len(out))
	}
	return out
}

func constantsIn(t *testing.T, file string, types ...string) []string {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, ty := range types {
		want[ty] = true
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || vs.Type == nil || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); ok && want[id.Name] {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				s, _ := strconv.Unquote(lit.Value)
				out = append(out, s)
			}
		}
		return true
	})
	return out
}
