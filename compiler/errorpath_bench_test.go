package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/internal/testconfig"
)

// BenchmarkExplainMistakes measures what explaining mistakes costs, the
// exact schema compiled before the clock starts: n typical domains in
// plain CUE with the same mistake (checked once), 120 each wrong in its
// own way (explained up to maxWrongParts), and 20 guests built from
// nixvirt's Linux template, one of them wrong (a package that imports
// nixvirt's packages).
func BenchmarkExplainMistakes(b *testing.B) {
	s, err := LoadSchema()
	if err != nil {
		b.Fatal(err)
	}
	exact, err := s.Precise()
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{20, 120} {
		src := strings.ReplaceAll(testconfig.Domains(n), `placement: "static"`, `placement: "statik"`)
		in := benchHost(b, "", src)
		b.Run(fmt.Sprintf("plain/domains=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if got := explain(b, exact, in); got != n {
					b.Fatalf("%d errors, want %d", got, n)
				}
			}
		})
	}
	// Each wrong in its own way: explained up to maxWrongParts.
	var w strings.Builder
	for i, part := range strings.Split(testconfig.Domains(120), `placement: "static"`) {
		if i > 0 {
			fmt.Fprintf(&w, `placement: "p%d"`, i)
		}
		w.WriteString(part)
	}
	distinct := benchHost(b, "", w.String())
	b.Run("distinct/domains=120", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if got := explain(b, exact, distinct); got != maxWrongParts+1 {
				b.Fatalf("%d errors, want %d", got, maxWrongParts+1)
			}
		}
	})
	src := strings.Replace(testconfig.DomainsNixvirtTemplate(20), `"52:54:00:00:00:05"}`, `"52:54:00:00:00:05"}, on_crash: "explode"`, 1)
	in := benchHost(b, "templates", src)
	b.Run("templates/domains=20", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if got := explain(b, exact, in); got != 1 {
				b.Fatalf("%d errors, want 1", got)
			}
		}
	})
}

// benchHost writes src as host.cue, in a package directory pkg when it is
// not "" (with a module, as an importing package needs).
func benchHost(b *testing.B, pkg, src string) Input {
	dir := b.TempDir()
	arg := "host.cue"
	if pkg != "" {
		if err := os.MkdirAll(filepath.Join(dir, "cue.mod"), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cue.mod", "module.cue"), []byte("module: \"example.com/host@v0\"\nlanguage: version: \"v0.17.0\"\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		arg = "."
	}
	if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	return Input{Dir: dir, Args: []string{arg}}
}

// explain is vet's CUE path with the exact schema: the number of errors.
func explain(b *testing.B, s *Schema, in Input) int {
	v, err := s.Load(in, "")
	if err == nil {
		_, err = s.CheckConfig(v)
	}
	if err == nil {
		b.Fatal("no error")
	}
	return len(Report(err, in.Dir))
}
