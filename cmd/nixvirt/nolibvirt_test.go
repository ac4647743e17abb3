package main

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildBoth builds nixvirt as it is installed: the build without libvirt
// as nixvirt and the whole build beside it as nixvirt-libvirt.
func buildBoth(t *testing.T) (front, whole string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds nixvirt twice")
	}
	dir := t.TempDir()
	front, whole = filepath.Join(dir, "nixvirt"), filepath.Join(dir, libvirtBuildName)
	copyFile(t, builtBinary(t, "-tags", "nolibvirt", "."), front)
	copyFile(t, builtBinary(t, "."), whole)
	return front, whole
}

// libvirtBuildName is the name nolibvirt.go looks for; the test is built
// without that file, so it names it again.
const libvirtBuildName = "nixvirt-libvirt"

type ran struct {
	stdout, stderr string
	code           int
}

func runBinary(t *testing.T, bin, dir string, env []string, args ...string) ran {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", bin, strings.Join(args, " "), err)
	}
	return ran{stdout.String(), strings.ReplaceAll(stderr.String(), bin, "BIN"), code}
}

func importedLibraries(t *testing.T, bin string) []string {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	return libs
}

// TestBuildWithoutLibvirt checks the two builds against each other: the
// one without libvirt links no libvirt library, and every command, run
// through it, prints and exits exactly as the whole build does, whether it
// runs the command itself (vet, export, import of files, help) or hands
// it to nixvirt-libvirt (plan, apply, status, import --connect,
// completion).
func TestBuildWithoutLibvirt(t *testing.T) {
	front, whole := buildBoth(t)
	hasLibvirt := func(bin string) bool {
		for _, l := range importedLibraries(t, bin) {
			if strings.HasPrefix(l, "libvirt") {
				return true
			}
		}
		return false
	}
	if hasLibvirt(front) {
		t.Errorf("the build with -tags nolibvirt links %v", importedLibraries(t, front))
	}
	if !hasLibvirt(whole) {
		t.Errorf("the whole build links no libvirt library: %v", importedLibraries(t, whole))
	}

	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	docs := t.TempDir()
	web, bad := filepath.Join(docs, "web.cue"), filepath.Join(docs, "bad.json")
	if err := os.WriteFile(web, []byte(`type: "kvm", name: "web", memory: {count: 1, unit: "GiB"}, os: type: "hvm"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"type": "kvm", "name": "web", "memory": {"count": "x"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"NIXVIRT_STATE_DIR=" + t.TempDir(), "NO_COLOR=1"}
	for _, args := range [][]string{
		{"--help"},
		{"help", "plan"},
		{"apply", "--help"},
		{"status", "-h"},
		{"vet", "./examples/host"},
		{"export", "--kind", "domain", web},
		{"vet", "--kind", "domain", bad},
		{"vet", "--kind", "domain", "nosuchfile.cue"},
		{"plan", "./examples/host"},
		{"plan", "--detailed-exitcode", "--output", "json", "./examples/host"},
		{"plan", "--no-such-flag"},
		{"apply", "--yes", "./examples/host"},
		{"status", "--connect", "test:///default", "test"},
		{"import", "--connect", "test:///default", "--kind", "network"},
		{"import", "--connect", "test:///default", "--kind", "volume"},
		{"__complete", "import", "--connect", "test:///default", ""},
		{"__complete", "plan", "--output", ""},
		{"version"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			want := runBinary(t, whole, repo, env, args...)
			got := runBinary(t, front, repo, env, args...)
			if got != want {
				t.Errorf("through the build without libvirt:\n%+v\nthe whole build:\n%+v", got, want)
			}
		})
	}
}

// TestBuildWithoutLibvirtAlone: without nixvirt-libvirt, the build
// without libvirt still vets and exports, and a command that needs libvirt
// says what is missing and how to build it; a nixvirt-libvirt that is
// itself built without libvirt is refused rather than run in a loop.
func TestBuildWithoutLibvirtAlone(t *testing.T) {
	front, _ := buildBoth(t)
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	copyTo := func(dst string) {
		data, err := os.ReadFile(front)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	alone := filepath.Join(t.TempDir(), "nixvirt")
	copyTo(alone)
	env := []string{"PATH=/usr/bin:/bin", "NIXVIRT_STATE_DIR=" + t.TempDir()}
	if r := runBinary(t, alone, repo, env, "vet", "./examples/host"); r.code != 0 {
		t.Errorf("vet without nixvirt-libvirt: %+v", r)
	}
	r := runBinary(t, alone, repo, env, "plan", "./examples/host")
	if r.code != 1 || !strings.Contains(r.stderr, "nixvirt-libvirt, which is neither beside") || !strings.Contains(r.stderr, "go build -o") {
		t.Errorf("plan without nixvirt-libvirt: %+v", r)
	}
	if r := runBinary(t, alone, repo, env, "import", "--connect", "test:///default"); r.code != 1 || !strings.Contains(r.stderr, "nixvirt-libvirt") {
		t.Errorf("import --connect without nixvirt-libvirt: %+v", r)
	}

	copyTo(filepath.Join(filepath.Dir(alone), libvirtBuildName))
	r = runBinary(t, alone, repo, env, "plan", "./examples/host")
	if r.code != 1 || !strings.Contains(r.stderr, "is built with -tags nolibvirt too") {
		t.Errorf("plan with a nixvirt-libvirt built without libvirt: %+v", r)
	}
}
