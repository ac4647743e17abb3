package main

import (
	"path/filepath"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// TestCloudExample vets examples/cloud and builds what apply would
// define from it, without applying it (that needs the network): the base
// image from its URL, an overlay and a seed per VM, each seed attached,
// and waitFor on each domain.
func TestCloudExample(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	c := newRootCmd(&stdout, &stderr, dir)
	c.root.SetArgs([]string{"vet", "./examples/cloud"})
	if err := c.root.Execute(); err != nil {
		compiler.PrintError(&stderr, err, dir)
		t.Fatalf("vet: %v\n%s", err, stderr.String())
	}
	var f hostFlags
	f.output = "text"
	d, err := f.wanted(c, []string{"./examples/cloud"})
	if err != nil {
		t.Fatal(err)
	}
	vols, seeds, waits := map[string]string{}, 0, 0
	for _, w := range d.Objects["qemu:///system"] {
		for _, v := range w.Volumes {
			switch {
			case v.Content != nil:
				vols[v.Name] = v.Content.URL
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
