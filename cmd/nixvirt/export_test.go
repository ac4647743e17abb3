package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestConnDirStaysInside: whatever a connection key is, its directory is
// one plain name under --out.
func TestConnDirStaysInside(t *testing.T) {
	for uri, want := range map[string]string{
		"qemu:///system":  "qemu____system",
		"test:///default": "test____default",
		"..":              "__",
		".":               "_",
		"../../x":         ".._.._x",
		"":                "",
	} {
		got := connDir(uri)
		if got != want {
			t.Errorf("connDir(%q) = %q, want %q", uri, got, want)
		}
		rel, err := filepath.Rel("out", filepath.Join("out", got, "domains", "web.xml"))
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Errorf("connDir(%q) leaves out/: %s", uri, rel)
		}
	}
}
