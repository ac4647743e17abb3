package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// testBuilds are the builds of nixvirt that tests run as processes (the
// front, the build without libvirt, the whole build), each built once per
// test process: every go build links a cgo binary holding all of CUE,
// and the tests that compare the builds took most of their time building
// the same three again. Tests copy a build to where they need it, so none
// sees another's changes. TestMain removes the directory.
var testBuilds struct {
	sync.Mutex
	dir  string
	bins map[string]string // by go build's arguments
}

// builtBinary returns nixvirt built with go build's arguments args (the
// package last), building it on the first call.
func builtBinary(t *testing.T, args ...string) string {
	t.Helper()
	testBuilds.Lock()
	defer testBuilds.Unlock()
	key := strings.Join(args, " ")
	if bin, ok := testBuilds.bins[key]; ok {
		return bin
	}
	if testBuilds.dir == "" {
		dir, err := os.MkdirTemp("", "nixvirt-test-builds-")
		if err != nil {
			t.Fatal(err)
		}
		testBuilds.dir, testBuilds.bins = dir, map[string]string{}
	}
	bin := filepath.Join(testBuilds.dir, fmt.Sprintf("build%d", len(testBuilds.bins)))
	cmd := exec.Command("go", append([]string{"build", "-o", bin}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", key, err, out)
	}
	testBuilds.bins[key] = bin
	return bin
}

// removeTestBuilds removes what builtBinary built.
func removeTestBuilds() {
	testBuilds.Lock()
	defer testBuilds.Unlock()
	if testBuilds.dir != "" {
		os.RemoveAll(testBuilds.dir)
	}
}
