package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

func TestMain(m *testing.M) {
	testscript.Main(ownOwnersDir{m}, map[string]func(){
		"nixvirt": func() { os.Exit(Main()) },
	})
}

// ownOwnersDir runs the tests with an owners directory of their own
// (unless one is named), so that end-to-end tests on a real host, which
// apply from temporary state directories, leave no claims in the host's
// /var/lib/nixvirt-owners.
type ownOwnersDir struct{ m *testing.M }

func (o ownOwnersDir) Run() int {
	defer removeTestBuilds()
	if os.Getenv("NIXVIRT_OWNERS_DIR") != "" {
		return o.m.Run()
	}
	dir, err := os.MkdirTemp("", "nixvirt-owners-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Setenv("NIXVIRT_OWNERS_DIR", dir); err != nil {
		panic(err)
	}
	return o.m.Run()
}

// TestScripts runs testdata/script/*.txtar against the real binary.
// NIXVIRT_UPDATE=1 rewrites the golden files in the scripts.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("..", "..", "testdata", "script"),
		UpdateScripts: os.Getenv("NIXVIRT_UPDATE") != "",
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"validate":  cmdValidate,
			"roundtrip": cmdRoundtrip,
		},
		RequireExplicitExec: true,
	})
}

// cmdValidate runs libvirt's own virt-xml-validate: validate KIND FILE.
func cmdValidate(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: validate KIND FILE")
	}
	schema := map[string]string{"domain": "domain", "network": "network", "pool": "storagepool", "volume": "storagevol"}[args[0]]
	if schema == "" {
		ts.Fatalf("validate: unknown kind %q", args[0])
	}
	out, err := exec.Command("virt-xml-validate", ts.MkAbs(args[1]), schema).CombinedOutput()
	if (err != nil) != neg {
		ts.Fatalf("virt-xml-validate %s %s: %v\n%s", args[1], schema, err, out)
	}
}

// cmdRoundtrip checks that libvirtxml parses and writes FILE unchanged.
func cmdRoundtrip(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: roundtrip KIND FILE")
	}
	k, err := compiler.ParseKind(args[0])
	ts.Check(err)
	data := ts.ReadFile(args[1])
	again, err := compiler.Canonical(k, data)
	ts.Check(err)
	if (strings.TrimSpace(again) != strings.TrimSpace(data)) != neg {
		ts.Fatalf("libvirtxml does not write %s back unchanged:\n%s", args[1], again)
	}
}

// TestExample runs what the README's first command runs: vet and export of
// examples/host, each document validated by libvirt.
func TestExample(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", t.TempDir())
	// apply, then plan: nothing left to do. test:///default keeps its state
	// while a connection is open, so the test holds one.
	keep, err := apply.Connect("test:///default")
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	for _, args := range [][]string{{"vet", "./examples/host"}, {"export", "--out", out, "./examples/host"},
		{"apply", "./examples/host"}, {"plan", "--detailed-exitcode", "./examples/host"}} {
		var stdout, stderr strings.Builder
		c := newRootCmd(&stdout, &stderr, dir)
		c.root.SetArgs(args)
		if err := c.root.Execute(); err != nil {
			compiler.PrintError(&stderr, err, dir)
			t.Fatalf("nixvirt %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
	}
	files, _ := filepath.Glob(filepath.Join(out, "*", "*", "*.xml"))
	if len(files) != 4 {
		t.Fatalf("want 4 documents besides volumes, got %v", files)
	}
	for _, f := range files {
		kind := map[string]string{"domains": "domain", "networks": "network", "pools": "storagepool"}[filepath.Base(filepath.Dir(f))]
		if o, err := exec.Command("virt-xml-validate", f, kind).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", f, err, o)
		}
	}
}
