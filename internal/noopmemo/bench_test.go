package noopmemo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkCheck100 is what the front does with the memo of a no-op apply
// of 100 domains, the host's answers aside: the files' stats, the state
// directory's digest, and the digests of 200 listed definitions.
func BenchmarkCheck100(b *testing.B) {
	dir := b.TempDir()
	files, stats := map[string]string{}, map[string]FileStat{}
	for i := 0; i < 100; i++ {
		name := filepath.Join(dir, fmt.Sprintf("d%03d.xml", i))
		if err := os.WriteFile(name, []byte(strings.Repeat("<domain/>", 300)), 0o644); err != nil {
			b.Fatal(err)
		}
		files[name] = FileHash(name)
		stats[name], _ = StatOf(name)
	}
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(state, "qemu____system.defined.json"), []byte(strings.Repeat("x", 400<<10)), 0o600); err != nil {
		b.Fatal(err)
	}
	objs := make([]Object, 200)
	for i := range objs {
		objs[i] = Object{UUID: fmt.Sprint(i), Name: fmt.Sprint(i), XML: strings.Repeat("<domain/>", 500)}
	}
	r := reader{lists: map[string][]Object{"domain": objs}}
	calls := []Call{{Method: MethodList, Kind: "domain", Sum: SumObjects(objs)}, {Method: MethodList, Kind: "network", Sum: SumObjects(nil)}}
	b.ReportAllocs()
	for b.Loop() {
		if !Unchanged(files, stats, nil) || StateDigest(state, []string{dir}, []string{"qemu:///system"}) == "" || !Same(r, calls) {
			b.Fatal("changed")
		}
	}
}
