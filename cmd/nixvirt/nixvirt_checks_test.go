package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// NixVirt's own test material, vendored unchanged (testdata/nixvirt), and
// what evaluates it for these tests (testdata/nixvirtcheck).
var (
	nixvirtDir      = filepath.Join("..", "..", "testdata", "nixvirt")
	nixvirtCheckDir = filepath.Join("..", "..", "testdata", "nixvirtcheck")
)

// nixvirtStandIns are the absolute paths eval.nix gives NixVirt's lib for
// its packages, keyed by the stand-in NixVirt's checks.nix uses in its
// expected XML (which libvirt refuses as paths).
var nixvirtStandIns = []struct{ nixvirt, ours, arg string }{
	{"QEMU_PATH", "/stand-in/qemu", "qemu"},
	{"OVMFFull_FD_PATH", "/stand-in/OVMFFull.fd", "ovmf"},
	{"BUILD ", "/stand-in/build/", "build"},
}

// nixvirtExpected reads one of NixVirt's expected XML documents with its
// stand-ins replaced by ours.
func nixvirtExpected(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, s := range nixvirtStandIns {
		doc = strings.ReplaceAll(doc, s.nixvirt, s.ours)
	}
	return doc
}

// evalNixVirt evaluates input (a Nix file holding a function of NixVirt's
// lib) through NixVirt's vendored lib and writes the resulting attrset as
// JSON to a file, whose path it returns.
func evalNixVirt(t *testing.T, input string) string {
	t.Helper()
	file, err := evalNixVirtArgs(t, input)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// evalNixVirtArgs is evalNixVirt with more arguments for nix-instantiate,
// returning the evaluation's failure as an error.
func evalNixVirtArgs(t *testing.T, input string, extra ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("nix-instantiate"); err != nil {
		t.Skip("nix-instantiate (Debian's nix-bin) is not installed")
	}
	abs, err := filepath.Abs(input)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--eval", "--strict", "--json", filepath.Join(nixvirtCheckDir, "eval.nix"), "--arg", "input", abs}
	for _, s := range nixvirtStandIns {
		args = append(args, "--argstr", s.arg, strings.TrimSuffix(s.ours, "/"))
	}
	cmd := exec.Command("nix-instantiate", append(args, extra...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("nix-instantiate %s: %v\n%s", input, err, stderr.String())
	}
	file := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return file, nil
}

// exportKind runs `nixvirt export --kind KIND ARGS…` in directory dir (the
// test's own if empty), returning its output and, when it fails, its error
// output.
func exportKind(t *testing.T, dir, kind string, args ...string) (xml string, failure string) {
	t.Helper()
	cmd := exec.Command("nixvirt", append([]string{"export", "--kind", kind}, args...)...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running nixvirt: %v", err)
		}
		return "", stderr.String() + "\n(" + err.Error() + ")"
	}
	return string(out), ""
}

// sameDocument reports whether two documents of a kind are the same once
// both are parsed and written by libvirtxml (attribute order, quoting,
// empty elements and spacing do not count), with the difference if not.
// Spacing between tags does not count either: libvirtxml keeps <metadata>
// as written, and NixVirt indents it.
func sameDocument(t *testing.T, kind, want, got string) (bool, string) {
	t.Helper()
	k, err := compiler.ParseKind(kind)
	if err != nil {
		t.Fatal(err)
	}
	w, err := compiler.Canonical(k, want)
	if err != nil {
		t.Fatalf("NixVirt's XML: %v", err)
	}
	g, err := compiler.Canonical(k, got)
	if err != nil {
		t.Fatalf("nixvirt's XML: %v", err)
	}
	if betweenTags.ReplaceAllString(w, "><") == betweenTags.ReplaceAllString(g, "><") {
		return true, ""
	}
	return false, "NixVirt's XML:\n" + w + "\nnixvirt's XML:\n" + g
}

var betweenTags = regexp.MustCompile(`>\s+<`)

// checkOutcome is how a NixVirt check listed in outcomes.txt behaves.
type checkOutcome struct {
	outcome, reason string
}

// readCheckOutcomes reads testdata/nixvirtcheck/outcomes.txt.
func readCheckOutcomes(t *testing.T) map[string]checkOutcome {
	t.Helper()
	f, err := os.Open(filepath.Join(nixvirtCheckDir, "outcomes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	outcomes := map[string]checkOutcome{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		if len(fields) < 3 {
			t.Fatalf("outcomes.txt:%d: want CHECK OUTCOME REASON", line)
		}
		switch fields[1] {
		case "refused", "differs":
		default:
			t.Fatalf("outcomes.txt:%d: unknown outcome %q", line, fields[1])
		}
		outcomes[fields[0]] = checkOutcome{fields[1], strings.Join(fields[2:], " ")}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return outcomes
}

// TestNixVirtChecks evaluates each of NixVirt's checks through NixVirt's own
// lib (templates included), exports the result with nixvirt and compares
// it with NixVirt's expected XML, as libvirtxml-normalised documents. The
// checks listed in outcomes.txt must behave as listed there.
func TestNixVirtChecks(t *testing.T) {
	outcomes := readCheckOutcomes(t)
	inputs, err := filepath.Glob(filepath.Join(nixvirtDir, "checks", "*", "*", "input.nix"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no NixVirt checks under %s: %v", nixvirtDir, err)
	}
	seen := map[string]bool{}
	for _, input := range inputs {
		dir := filepath.Dir(input)
		kind := filepath.Base(filepath.Dir(dir))
		name := kind + "/" + filepath.Base(dir)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			json := evalNixVirt(t, input)
			xml, failure := exportKind(t, "", kind, json)
			var differs string
			if failure == "" {
				if same, diff := sameDocument(t, kind, nixvirtExpected(t, filepath.Join(dir, "expected.xml")), xml); !same {
					differs = diff
				}
			}
			listed, ok := outcomes[name]
			switch {
			case !ok && failure != "":
				t.Errorf("nixvirt refuses NixVirt's check:\n%s", failure)
			case !ok && differs != "":
				t.Errorf("nixvirt's XML is not NixVirt's:\n%s", differs)
			case !ok:
				// NixVirt's XML, as it should be.
			case failure == "" && differs == "":
				t.Errorf("stale entry in outcomes.txt (%s: %s): the check now gives NixVirt's XML", listed.outcome, listed.reason)
			case listed.outcome == "differs":
				// Still differs, as listed.
			case failure == "":
				t.Errorf("outcomes.txt says libvirt refuses this (%s), but nixvirt exports it:\n%s", listed.reason, xml)
			case listed.outcome == "refused" && !namesPosition(failure, json):
				t.Errorf("the error does not name a line of the input %s:\n%s", json, failure)
			}
		})
	}
	for name := range outcomes {
		if !seen[name] {
			t.Errorf("outcomes.txt lists %s, which is not one of NixVirt's checks", name)
		}
	}
}

// namesPosition reports whether an error message gives a line and column
// in the input file.
func namesPosition(message, file string) bool {
	return regexp.MustCompile(regexp.QuoteMeta(filepath.Base(file)) + `:\d+:\d+`).MatchString(message)
}
