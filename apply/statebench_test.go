package apply

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/compiler"
)

// BenchmarkFirstApply500Domains applies 500 new domains to a fresh test
// host with an empty state directory: every domain gets its record of
// what libvirt stored, which is where writing the records once per step
// rather than once per object shows.
func BenchmarkFirstApply500Domains(b *testing.B) {
	dir := b.TempDir()
	file := filepath.Join(dir, "host.xml")
	if err := os.WriteFile(file, []byte(hostXML), 0o644); err != nil {
		b.Fatal(err)
	}
	uri := "test://" + file
	var body strings.Builder
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&body, "domains: \"vm%d\": definition: {type: \"test\", memory: {count: 64, unit: \"MiB\"}, os: type: \"hvm\"}\n", i)
	}
	s, err := compiler.LoadSchema()
	if err != nil {
		b.Fatal(err)
	}
	v := s.Context().CompileString(fmt.Sprintf("connections: %q: {\n%s\n}", uri, body.String()), cue.Filename("host.cue"))
	u, err := s.CheckConfig(v)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := s.Config(u, dir)
	if err != nil {
		b.Fatal(err)
	}
	d, err := Build(s, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, err := Connect(uri) // a new connection: a fresh test host
		if err != nil {
			b.Fatal(err)
		}
		res := Apply(context.Background(), d, func(string) (Host, error) { return keepOpen{h}, nil },
			Options{Prune: true, State: OpenState(filepath.Join(b.TempDir(), "state"))}, func(Outcome) {})
		if len(res.Failed) > 0 || res.Added != 500 {
			b.Fatalf("apply: %d added, failures %v", res.Added, res.Failed)
		}
		h.Close()
	}
}

// BenchmarkApply300FilledVolumes applies a pool of 300 volumes cloned
// from one, each with content to record, to a fresh test host: where
// writing the content records once per step rather than once per volume
// shows.
func BenchmarkApply300FilledVolumes(b *testing.B) {
	var vols strings.Builder
	vols.WriteString(`"base.img": definition: capacity: {count: 1, unit: "MiB"}` + "\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&vols, "\"c%d.img\": {definition: capacity: {count: 1, unit: \"MiB\"}, content: clone: {pool: \"store\", volume: \"base.img\"}}\n", i)
	}
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		th := newTestHost(b)
		d := th.wanted(poolWith(vols.String()))
		b.StartTimer()
		res := Apply(context.Background(), d, th.connect, Options{Prune: true, State: th.st}, func(Outcome) {})
		if len(res.Failed) > 0 || res.Added != 302 {
			b.Fatalf("apply: %d added, failures %v", res.Added, res.Failed)
		}
	}
}
