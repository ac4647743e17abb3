package xmlfiles

import (
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
