package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"cuelang.org/go/cue"
)

// writeTree writes files (slash-separated paths relative to dir) and
// returns dir.
func writeTree(t testing.TB, dir string, files map[string]string) string {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// bothSchemas are the fast and the exact variant, which every behaviour
// a user relies on must share.
func bothSchemas(t testing.TB) []*Schema {
	t.Helper()
	fast := mustSchema(t)
	exact, err := fast.Precise()
	if err != nil {
		t.Fatal(err)
	}
	return []*Schema{fast, exact}
}

func variant(s *Schema) string {
	if s.precise {
		return "exact"
	}
	return "fast"
}

// stringAt is the string at path in v, or "" when there is none.
func stringAt(v cue.Value, path string) string {
	x, _ := v.LookupPath(cue.ParsePath(path)).Default()
	s, _ := x.String()
	return s
}
