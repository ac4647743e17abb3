package compiler

import (
	"fmt"
	"strings"
	"testing"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/internal/testconfig"
)

func mustSchema(t testing.TB) *Schema {
	s, err := LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExportRefusesWhatLibvirtxmlDrops(t *testing.T) {
	s := mustSchema(t)
	// <source dev> does not belong to <disk type='file'>: libvirtxml keeps
	// only file= there, so export must refuse rather than lose it.
	v := s.Context().CompileString(`
type: "kvm", name: "x", os: type: "hvm"
devices: disk: {type: "file", device: "disk", source: dev: "/dev/sda", target: dev: "vda"}`, cue.Filename("x.cue"))
	u, err := s.Check(v, KindDomain)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Export(u, KindDomain)
	if err == nil || !strings.Contains(err.Error(), "no place for") {
		t.Fatalf("want a 'no place for' error, got %v", err)
	}
	if pe, ok := err.(*pathError); !ok || pe.pos.Filename() != "x.cue" || pe.pos.Line() != 3 {
		t.Fatalf("error should point at x.cue:3, got %v", err)
	}
}

func TestObjectsOrderAndNames(t *testing.T) {
	s := mustSchema(t)
	v := s.Context().CompileString(`
connections: "test:///default": {
	domains: b: definition: {type: "test", os: type: "hvm"}
	networks: [{definition: {name: "n"}}]
	pools: p: {definition: {type: "dir", target: path: "/x"}, volumes: "v.img": definition: capacity: count: 1}
}`)
	u, err := s.CheckConfig(v)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := s.Objects(u, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, fmt.Sprintf("%s/%s", o.Kind, o.Name))
	}
	want := "network/n pool/p volume/v.img domain/b"
	if strings.Join(got, " ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
	}
}

// BenchmarkVetExport measures what `nixvirt export --out` does for a
// configuration of n domains: compile, unify with #Config, validate, and
// write every domain's XML through libvirtxml.
func BenchmarkVetExport(b *testing.B) {
	s := mustSchema(b)
	for _, n := range []int{1, 100, 1000} {
		src := testconfig.Domains(n)
		b.Run(fmt.Sprintf("domains=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				v := s.Context().CompileString(src)
				u, err := s.CheckConfig(v)
				if err != nil {
					b.Fatal(err)
				}
				objs, err := s.Objects(u, ".")
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range objs {
					if _, err := s.Compile(o); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
