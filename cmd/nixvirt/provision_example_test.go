//go:build !nolibvirt

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// TestCloudExample vets examples/cloud as it is shipped, which stops at
// the two values only its user can give (the image's SHA-512 and an SSH
// key); then, with test values for them in a copy, builds what apply
// would define from it, without applying it (that needs the network):
// the base image from its URL, an overlay and a seed per VM, each seed
// attached, and waitFor on each domain.
func TestCloudExample(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	c := newRootCmd(&stdout, &stderr, root)
	c.root.SetArgs([]string{"vet", "./examples/cloud"})
	err = c.root.Execute()
	if err == nil {
		t.Fatal("the example vets without its user's values")
	}
	compiler.PrintError(&stderr, err, root)
	for _, want := range []string{
		`volumes."debian-12.qcow2".content.sha512: incomplete value`,
		`domains.web.cloudInit.userData.users.0.ssh_authorized_keys.0: incomplete value`,
		"./examples/cloud/yours.cue:",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("vet of the example as shipped does not say %q:\n%s", want, stderr.String())
		}
	}

	// A copy with values of the right form: neither is real, and nothing
	// is downloaded.
	dir := t.TempDir()
	for _, f := range []string{"host.cue", "yours.cue"} {
		data, err := os.ReadFile(filepath.Join(root, "examples", "cloud", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), data, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "values.cue"), []byte(`package cloud

_imageSHA512: "`+strings.Repeat("0", 128)+`"
_sshKey:      "ssh-ed25519 test-key ops@test"
`), 0o644)
	stderr.Reset()
	c = newRootCmd(&stdout, &stderr, dir)
	c.root.SetArgs([]string{"vet", "."})
	if err := c.root.Execute(); err != nil {
		compiler.PrintError(&stderr, err, dir)
		t.Fatalf("vet: %v\n%s", err, stderr.String())
	}
	var f hostFlags
	f.output = "text"
	d, err := f.wanted(c, []string{"."})
	if err != nil {
		t.Fatal(err)
	}
	vols, seeds, waits := map[string]string{}, 0, 0
	for _, w := range d.Objects["qemu:///system"] {
		for _, v := range w.Volumes {
			switch {
			case v.Content != nil:
				vols[v.Name] = v.Content.URL
				if v.Content.SHA512 != strings.Repeat("0", 128) {
					t.Errorf("volume %s: sha512 %q", v.Name, v.Content.SHA512)
				}
			case strings.HasSuffix(v.Name, "-cidata.iso"):
				seeds++
			default:
				if !strings.Contains(v.XML, "<backingStore>") {
					t.Errorf("volume %s is not an overlay:\n%s", v.Name, v.XML)
				}
			}
		}
		if w.Kind == compiler.KindDomain {
			if !strings.Contains(w.XML, w.Name+"-cidata.iso") || w.WaitFor == nil || w.WaitFor.Timeout != 300 {
				t.Errorf("domain %s lacks its seed or waitFor:\n%s", w.Name, w.XML)
			}
			waits++
		}
	}
	if !strings.HasPrefix(vols["debian-12.qcow2"], "https://cloud.debian.org/") || seeds != 2 || waits != 2 {
		t.Fatalf("base image %v, %d seeds, %d domains", vols, seeds, waits)
	}
}
