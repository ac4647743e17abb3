package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// TestE2EStateDirsKeepTheirPoolsAndSecrets: two configurations on
// qemu:///system with their own state directories and owners (as the
// NixOS module and a second root configuration with its own
// $NIXVIRT_STATE_DIR), sharing the host's owners directory. B names A's
// pool and secret: refused, with A's owner, and nothing of them changes;
// B's pruning apply leaves A's pool, its volume and its secret as they
// were and lists them as A's; A then deletes them itself. Objects are
// named nvxownc<pid>…, owners nvx-nvxown-a and nvx-nvxown-b.
func TestE2EStateDirsKeepTheirPoolsAndSecrets(t *testing.T) {
	e := newOwnerE2E(t, "c")
	t.Setenv("NIXVIRT_OWNERS_DIR", filepath.Join(e.dir, "owners"))
	stateA, stateB := filepath.Join(e.dir, "state-a"), filepath.Join(e.dir, "state-b")
	ownerA, ownerB := "nvx-nvxown-a", "nvx-nvxown-b"
	poolA, poolB, usage := e.name("pool-a"), e.name("pool-b"), e.name("key")
	secretUUID := func() string {
		out, _ := exec.Command("virsh", "-c", e.uri, "secret-list").Output()
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && strings.Contains(line, usage) {
				return f[0]
			}
		}
		return ""
	}
	cleanup := func() {
		for _, p := range []string{poolA, poolB} {
			exec.Command("virsh", "-c", e.uri, "pool-destroy", p).Run()
			exec.Command("virsh", "-c", e.uri, "pool-undefine", p).Run()
		}
		if u := secretUUID(); u != "" {
			exec.Command("virsh", "-c", e.uri, "secret-undefine", u).Run()
		}
	}
	cleanup()
	t.Cleanup(cleanup)
	if err := os.WriteFile(filepath.Join(e.dir, "key"), []byte("nvxown-value"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{poolA, poolB} {
		if err := os.Mkdir(filepath.Join(e.dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pool := func(name string) string {
		return fmt.Sprintf(`%q: {definition: {type: "dir", target: path: %q}, active: true, volumes: "v.img": definition: capacity: {count: 1, unit: "MiB"}}`,
			name, filepath.Join(e.dir, name))
	}
	secret := fmt.Sprintf(`%q: {definition: {private: true, ephemeral: false, usage: {type: "ceph", name: %q}}, value: file: "key"}`, usage, usage)
	as := func(state, owner string, args ...string) (string, error) {
		t.Setenv("NIXVIRT_STATE_DIR", state)
		return e.nixvirt(append(args[:len(args)-1:len(args)-1], "--owner", owner, args[len(args)-1])...)
	}
	mustAs := func(state, owner string, args ...string) string {
		t.Helper()
		out, err := as(state, owner, args...)
		if err != nil {
			t.Fatalf("nixvirt %s as %s: %v\n%s", strings.Join(args, " "), owner, err, out)
		}
		return out
	}
	snapshot := func() string {
		return virsh(t, e.uri, "pool-dumpxml", "--inactive", poolA) + virsh(t, e.uri, "vol-list", poolA) +
			virsh(t, e.uri, "secret-dumpxml", secretUUID())
	}

	cfgA := e.config("a.cue", "pools: {"+pool(poolA)+"}\nsecrets: {"+secret+"}")
	mustAs(stateA, ownerA, "apply", cfgA)
	before := snapshot()
	// Root's claims are for every user to read, never to write.
	claims := filepath.Join(e.dir, "owners", compiler.ConnectionFileName(e.uri)+".json")
	if fi, err := os.Stat(claims); err != nil || fi.Mode().Perm() != 0o644 && os.Geteuid() == 0 {
		t.Fatalf("the claims file: %v %v", fi, err)
	}
	if data, _ := os.ReadFile(claims); strings.Count(string(data), stateA) != 2 {
		t.Fatalf("the claims of A's pool and secret:\n%s", data)
	}

	// B names them: refused for each, with A's owner.
	out, err := as(stateB, ownerB, "plan", cfgA)
	for _, obj := range []string{fmt.Sprintf("pool %q", poolA), fmt.Sprintf("secret %q", usage)} {
		if err == nil || !strings.Contains(out, obj) || strings.Count(out, fmt.Sprintf("belongs to owner %q", ownerA)) != 2 {
			t.Fatalf("B's plan of A's %s: %v\n%s", obj, err, out)
		}
	}
	if out, err := as(stateB, ownerB, "apply", cfgA); err == nil {
		t.Fatalf("B's apply of A's pool and secret succeeded:\n%s", out)
	}
	// B prunes: A's are listed as A's and left alone.
	cfgB := e.config("b.cue", "pools: {"+pool(poolB)+"}\nsecrets: {}")
	out = mustAs(stateB, ownerB, "plan", cfgB)
	if !strings.Contains(out, fmt.Sprintf("· pool %q on %s belongs to owner %q and is left alone", poolA, e.uri, ownerA)) {
		t.Fatalf("B's plan does not list A's pool as A's:\n%s", out)
	}
	mustAs(stateB, ownerB, "apply", cfgB)
	if after := snapshot(); after != before {
		t.Fatalf("B changed A's pool or secret:\nbefore %s\nafter %s", before, after)
	}

	// Each deletes its own.
	empty := e.config("empty.cue", "pools: {}\nsecrets: {}")
	mustAs(stateA, ownerA, "apply", empty)
	if secretUUID() != "" || strings.Contains(virsh(t, e.uri, "pool-list", "--all", "--name"), poolA+"\n") {
		t.Fatal("A did not delete its pool and secret")
	}
	if !strings.Contains(virsh(t, e.uri, "pool-list", "--all", "--name"), poolB) {
		t.Fatal("A's apply deleted B's pool")
	}
	mustAs(stateB, ownerB, "apply", empty)
	if strings.Contains(virsh(t, e.uri, "pool-list", "--all", "--name"), poolB) {
		t.Fatal("B did not delete its pool")
	}
}
