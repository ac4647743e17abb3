package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

// e2eBenchURI is like e2eURI for benchmarks.
func e2eBenchURI(b *testing.B) string {
	uri := os.Getenv("NIXVIRT_E2E_URI")
	if uri == "" {
		b.Skip("NIXVIRT_E2E_URI is not set")
	}
	return uri
}

// benchWanted compiles n defined, not started domains for uri.
func benchWanted(b *testing.B, uri, prefix string, n int) *apply.Desired {
	var src strings.Builder
	fmt.Fprintf(&src, "connections: %q: domains: {\n", uri)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&src, "%q: definition: {type: \"qemu\", memory: {count: 128, unit: \"MiB\"}, os: type: \"hvm\", devices: interface: {type: \"user\"}}\n", fmt.Sprintf("%s-%03d", prefix, i))
	}
	src.WriteString("}\n")
	s, err := compiler.LoadSchema()
	if err != nil {
		b.Fatal(err)
	}
	u, err := s.CheckConfig(s.Context().CompileString(src.String()))
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := s.Config(u, ".")
	if err != nil {
		b.Fatal(err)
	}
	w, err := apply.Build(s, cfg)
	if err != nil {
		b.Fatal(err)
	}
	return w
}

func cleanupDomains(uri, prefix string) {
	out, _ := exec.Command("virsh", "-c", uri, "list", "--all", "--name").Output()
	for _, name := range strings.Fields(string(out)) {
		if strings.HasPrefix(name, prefix+"-") {
			exec.Command("virsh", "-c", uri, "undefine", name).Run()
		}
	}
}

// BenchmarkE2EApplyNoop100 applies a configuration of 100 domains that the
// host already has: it must make no libvirt write.
func BenchmarkE2EApplyNoop100(b *testing.B) {
	uri := e2eBenchURI(b)
	prefix := fmt.Sprintf("nvxb%d", os.Getpid()%100000)
	opts := apply.Options{Prune: false, State: apply.OpenState(filepath.Join(b.TempDir(), "state"))}
	w := benchWanted(b, uri, prefix, 100)
	b.Cleanup(func() { cleanupDomains(uri, prefix) })
	if res := apply.Apply(context.Background(), w, apply.Connect, opts, func(apply.Outcome) {}); len(res.Failed) > 0 {
		b.Fatal(res.Failed)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := apply.Apply(context.Background(), w, apply.Connect, opts, func(apply.Outcome) {})
		if len(res.Failed) > 0 || res.Writes != 0 {
			b.Fatalf("no-op apply: %d writes, %v", res.Writes, res.Failed)
		}
	}
}

// BenchmarkE2EApplyFirst20 defines 20 new domains.
func BenchmarkE2EApplyFirst20(b *testing.B) {
	uri := e2eBenchURI(b)
	prefix := fmt.Sprintf("nvxf%d", os.Getpid()%100000)
	opts := apply.Options{Prune: false, State: apply.OpenState(filepath.Join(b.TempDir(), "state"))}
	w := benchWanted(b, uri, prefix, 20)
	b.Cleanup(func() { cleanupDomains(uri, prefix) })
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		cleanupDomains(uri, prefix)
		b.StartTimer()
		res := apply.Apply(context.Background(), w, apply.Connect, opts, func(apply.Outcome) {})
		if len(res.Failed) > 0 || res.Added != 20 {
			b.Fatalf("first apply: %+v", res)
		}
	}
}
