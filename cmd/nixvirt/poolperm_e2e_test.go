package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EPoolKeepsOwnerAfterLibvirtRewrite declares a pool whose target
// permissions (0700) differ from its directory's (0755): libvirt writes
// the directory's into the pool's persistent definition when it starts
// the pool. The pool stays nixvirt's: the next plan is empty, with no
// take-over and no drift, whether apply or an admin started it, and so is
// one after the pool is restarted by hand. Its objects are named
// nvxfix-perm-*.
func TestE2EPoolKeepsOwnerAfterLibvirtRewrite(t *testing.T) {
	uri := e2eURI(t)
	id := fmt.Sprintf("nvxfix-perm-%d", os.Getpid()%100000)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	poolDir, err := os.MkdirTemp("", "nvxfix-perm-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(poolDir, 0o755)
	t.Cleanup(func() { os.RemoveAll(poolDir) })
	t.Cleanup(func() {
		for _, args := range [][]string{{"pool-destroy", id}, {"pool-undefine", id}} {
			exec.Command("virsh", append([]string{"-c", uri}, args...)...).Run()
		}
		checkGone(t, uri, id)
	})
	write := func(active string) {
		t.Helper()
		cfg := fmt.Sprintf(`connections: %q: pools: %q: {
	definition: {type: "dir", target: {path: %q, permissions: mode: octal: "0700"}}
	%s
}
`, uri, id, poolDir, active)
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rewritten := func() {
		t.Helper()
		if got := virsh(t, uri, "pool-dumpxml", "--inactive", id); !strings.Contains(got, "<mode>0755</mode>") {
			t.Fatalf("libvirt did not rewrite the pool's permissions, so this test shows nothing:\n%s", got)
		}
	}
	noChanges := func(when string) {
		t.Helper()
		out, err := run(t, dir, "plan", "--owner", "nvxfix-perm", "--detailed-exitcode", "host.cue")
		if err != nil || !strings.Contains(out, "No changes") {
			t.Fatalf("plan %s: %v\n%s", when, err, out)
		}
		out, err = run(t, dir, "status", "--connect", uri, id)
		if err != nil || !strings.Contains(out, "nvxfix-perm") {
			t.Fatalf("status %s does not name the pool's owner: %v\n%s", when, err, out)
		}
	}
	// Defined, not started: an admin starts it.
	write("")
	if out, err := run(t, dir, "apply", "--owner", "nvxfix-perm", "host.cue"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	virsh(t, uri, "pool-start", id)
	rewritten()
	noChanges("after an admin started the pool")

	// Redefined (the entry starts it) and started by apply.
	virsh(t, uri, "pool-destroy", id)
	virsh(t, uri, "pool-undefine", id)
	write("active: true")
	if out, err := run(t, dir, "apply", "--owner", "nvxfix-perm", "host.cue"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	rewritten()
	noChanges("after the apply")
	virsh(t, uri, "pool-destroy", id)
	virsh(t, uri, "pool-start", id)
	noChanges("after the pool was restarted by hand")
	if out, err := run(t, dir, "apply", "--owner", "nvxfix-perm", "host.cue"); err != nil || !strings.Contains(out, "0 added, 0 changed, 0 destroyed") {
		t.Fatalf("second apply: %v\n%s", err, out)
	}
}
