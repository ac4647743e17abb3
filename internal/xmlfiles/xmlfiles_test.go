package xmlfiles

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler/gocheck"
)

// TestObjectFileStaysInside: whatever a connection key is, its directory
// is one plain name under --out.
func TestObjectFileStaysInside(t *testing.T) {
	for uri, want := range map[string]string{
		"qemu:///system":  "qemu____system",
		"test:///default": "test____default",
		"..":              "__",
		".":               "_",
		"../../x":         ".._.._x",
		"":                "",
	} {
		got := ObjectFile(uri, gocheck.KindDomain, "", "web")
		if got != filepath.Join(want, "domains", "web.xml") {
			t.Errorf("ObjectFile(%q) = %q, want %q/domains/web.xml", uri, got, want)
		}
		rel, err := filepath.Rel("out", filepath.Join("out", got))
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Errorf("ObjectFile(%q) leaves out/: %s", uri, rel)
		}
	}
	if got, want := ObjectFile("test:///default", gocheck.KindVolume, "vms", "a.qcow2"), "test____default/volumes/vms/a.qcow2.xml"; got != want {
		t.Errorf("a volume's file is %q, want %q", got, want)
	}
}

// TestWriteReplacesSymlinks: a link left where a document goes is
// replaced; the file it points at is left as it was.
func TestWriteReplacesSymlinks(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "host.json")
	if err := os.WriteFile(input, []byte(`{"connections": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	file := ObjectFile("qemu:///system", gocheck.KindDomain, "", "web")
	if err := os.MkdirAll(filepath.Dir(filepath.Join(out, file)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(input, filepath.Join(out, file)); err != nil {
		t.Fatal(err)
	}
	if err := Write(out, []Document{{File: file, XML: "<domain/>\n"}}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(input); string(data) != `{"connections": {}}` {
		t.Errorf("the link's target was written: %q", data)
	}
	fi, err := os.Lstat(filepath.Join(out, file))
	if err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Fatalf("the link is still there: %v %v", fi, err)
	}
	if data, _ := os.ReadFile(filepath.Join(out, file)); string(data) != "<domain/>\n" {
		t.Errorf("the document is %q", data)
	}
}
