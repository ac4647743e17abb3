package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFrontImportsNoCUE: the front links no package of cue, libvirt's Go
// binding or cobra, whose initialisation is what it exists to avoid
// (libvirtxml, pure Go and cheap to start, is fine).
func TestFrontImportsNoCUE(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps lists %d packages: %v", len(deps), deps)
	}
	for _, p := range deps {
		if strings.HasPrefix(p, "cuelang.org/") || p == "libvirt.org/go/libvirt" || strings.HasPrefix(p, "libvirt.org/go/libvirt/") || strings.HasPrefix(p, "github.com/spf13/") {
			t.Errorf("the front imports %s", p)
		}
	}
}

// TestParse: the forms the front reads itself, and some it leaves to the
// other builds.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want request
		ok   bool
	}{
		{[]string{"export", "--kind", "domain", "a.json"}, request{command: "export", kind: "domain", file: "a.json"}, true},
		{[]string{"vet", "a.json", "--kind=pool", "--output=json"}, request{command: "vet", kind: "pool", output: "json", file: "a.json"}, true},
		{[]string{"export", "--connect", "qemu:///system", "--out", "o", "s"}, request{command: "export", connect: "qemu:///system", out: "o", file: "s"}, true},
		{[]string{"export", "--connect=qemu+ssh://h/system?a=b", "--out=o", "s"}, request{command: "export", connect: "qemu+ssh://h/system?a=b", out: "o", file: "s"}, true},
		{[]string{"vet", "--output", "json", "--kind", "domain"}, request{}, false},
		{[]string{"vet", "a.json", "b.json"}, request{}, false},
		{[]string{"vet", "-"}, request{}, false},
		{[]string{"vet", "-c", "qemu:///system", "s"}, request{}, false},
		{[]string{"vet", "--out", "o", "a.json"}, request{}, false},
		{[]string{"export", "--output", "json", "a.json"}, request{}, false},
		{[]string{"vet", "--kind", "domain", "--kind", "pool", "a.json"}, request{}, false},
		{[]string{"vet", "--kind", "--output", "a.json"}, request{}, false},
		{[]string{"vet", "--kind=", "a.json"}, request{}, false},
		{[]string{"vet", "a.json", "--kind"}, request{}, false},
		{[]string{"vet", "--", "a.json"}, request{}, false},
		{[]string{"import", "a.xml"}, request{}, false},
		{nil, request{}, false},
	} {
		got, ok := parse(tc.args)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parse(%q) = %+v, %v; want %+v, %v", tc.args, got, ok, tc.want, tc.ok)
		}
	}
}

// TestConnects: the command lines that go straight to nixvirt-libvirt.
func TestConnects(t *testing.T) {
	for args, want := range map[string]bool{
		"plan .": true, "apply --yes .": true, "status": true, "__complete import --connect x ": true,
		"import --connect test:///default": true, "import -c test:///default": true, "import --connect=x": true,
		"import web.xml": false, "vet .": false, "help plan": false, "": false,
	} {
		if got := connects(strings.Fields(args)); got != want {
			t.Errorf("connects(%q) = %v, want %v", args, got, want)
		}
	}
}
