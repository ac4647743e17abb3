package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"nixvirt.dev/nixvirt/internal/testconfig"
)

// TestFastConfigMatchesCUE decodes whole-host JSON configurations with the
// Go checker and with the CUE path, and wants the same objects, entries
// and XML.
func TestFastConfigMatchesCUE(t *testing.T) {
	configs := map[string]string{
		"typical.json": string(testconfig.DomainsJSON(2)),
		"entries.json": `{"connections": {
  "test:///default": {
    "shutdownTimeout": 30,
    "networks": {"lab": {"definition": {"forward": {"mode": "nat"}}, "active": true, "restart": null}},
    "pools": [{"definition": {"type": "dir", "name": "vms", "target": {"path": "/var/lib/vms"}}, "autostart": true,
      "volumes": [{"name": "a.qcow2", "definition": {"capacity": {"count": 1, "unit": "GiB"}, "name": "a.qcow2"}},
                  {"name": "old.img", "present": false, "definition": null}]}],
    "domains": {
      "web": {"definition": {"type": "kvm", "os": {"type": "hvm"}, "memory": {"count": 1, "unit": "GiB"}, "description": null}, "shutdownTimeout": 5, "keepNvram": false},
      "gone": {"present": false}
    }
  },
  "qemu:///session": {"domains": []}
}}`,
	}
	s := mustSchema(t)
	dir := t.TempDir()
	for name, src := range configs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		in := Input{Dir: dir, Args: []string{name}}
		fast, ok := FastConfig(in, "")
		if !ok {
			t.Fatalf("%s: the Go checker does not take it", name)
		}
		v, err := s.Load(in, "")
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.CheckConfig(v)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := s.Config(u, dir)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast.Connections, slow.Connections) {
			t.Errorf("%s: connections differ:\nGo:  %+v\nCUE: %+v", name, fast.Connections, slow.Connections)
		}
		if len(fast.Objects) != len(slow.Objects) {
			t.Fatalf("%s: %d objects from the Go checker, %d from CUE", name, len(fast.Objects), len(slow.Objects))
		}
		for i, f := range fast.Objects {
			o := slow.Objects[i]
			if f.Connection != o.Connection || f.Kind != o.Kind || f.Name != o.Name || f.Pool != o.Pool || !reflect.DeepEqual(f.Entry, o.Entry) {
				t.Errorf("%s: object %d differs:\nGo:  %s %s %q %q %+v\nCUE: %s %s %q %q %+v", name, i,
					f.Connection, f.Kind, f.Name, f.Pool, f.Entry, o.Connection, o.Kind, o.Name, o.Pool, o.Entry)
			}
			want, err := s.Compile(o)
			if err != nil {
				t.Fatal(err)
			}
			if f.Compiled != want {
				t.Errorf("%s: %s %q: XML differs:\nGo:\n%s\nCUE:\n%s", name, f.Kind, f.Name, f.Compiled, want)
			}
		}
	}
}

// Secrets take the CUE path: their entries' value (a file relative to the
// file that names it, or an environment variable) is decoded there only,
// as volume content and cloudInit are. The Go checker declines a
// configuration or settings file with secrets rather than drop them.
func TestFastConfigLeavesSecretsToCUE(t *testing.T) {
	dir := t.TempDir()
	src := `{"secrets": {"k": {"definition": {"usage": {"type": "ceph", "name": "k"}}, "value": {"env": "K"}}}}`
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "host.json"), []byte(`{"connections": {"test:///default": `+src+`}}`), 0o644)
	if _, ok := FastConfig(Input{Dir: dir, Args: []string{"settings.json"}}, "test:///default"); ok {
		t.Error("the Go checker took a settings file with secrets")
	}
	if _, ok := FastConfig(Input{Dir: dir, Args: []string{"host.json"}}, ""); ok {
		t.Error("the Go checker took a configuration with secrets")
	}
}

// BenchmarkFastConfig measures the Go checker on a whole-host
// configuration of n typical domains, as JSON and as CUE written with a
// template (the user's values evaluated, no schema): reading, checking
// and writing every domain's XML, no files written.
func BenchmarkFastConfig(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "host.json"), testconfig.DomainsJSON(n), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(testconfig.DomainsTemplate(n)), 0o644); err != nil {
			b.Fatal(err)
		}
		for _, file := range []string{"host.json", "host.cue"} {
			b.Run(fmt.Sprintf("%s/domains=%d", file, n), func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, ok := FastConfig(Input{Dir: dir, Args: []string{file}}, ""); !ok {
						b.Fatal("the Go checker does not take it")
					}
				}
			})
		}
	}
}
