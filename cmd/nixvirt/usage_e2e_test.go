package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2ENvoWhoseIsInTheWay: on qemu:///system, a second configuration
// (its own state directory and owner) that names the first one's pool
// under another UUID, and gives a new secret the first one's secret's
// usage, is refused for both before libvirt is asked: plan names the
// owner and the state directory that claims them, and apply changes
// nothing. The first configuration, leaving pools out, keeps its pool and
// says so. Objects and owners are named nvo<pid>….
func TestE2ENvoWhoseIsInTheWay(t *testing.T) {
	e := newOwnerE2E(t, "")
	e.id = fmt.Sprintf("nvo%d", os.Getpid()%100000)
	t.Setenv("NIXVIRT_OWNERS_DIR", filepath.Join(e.dir, "owners"))
	stateA, stateB := filepath.Join(e.dir, "state-a"), filepath.Join(e.dir, "state-b")
	ownerA, ownerB := e.owner("a"), e.owner("b")
	pool, usage := e.name("pool"), e.name("key")
	secretUUIDs := func() []string {
		var out []string
		for _, line := range strings.Split(virsh(t, e.uri, "secret-list"), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && strings.Contains(line, usage) {
				out = append(out, f[0])
			}
		}
		return out
	}
	cleanup := func() {
		exec.Command("virsh", "-c", e.uri, "pool-destroy", pool).Run()
		exec.Command("virsh", "-c", e.uri, "pool-undefine", pool).Run()
		for _, u := range secretUUIDs() {
			exec.Command("virsh", "-c", e.uri, "secret-undefine", u).Run()
		}
	}
	cleanup()
	t.Cleanup(cleanup)
	if err := os.WriteFile(filepath.Join(e.dir, "key"), []byte("nvo-value"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(e.dir, pool), 0o755); err != nil {
		t.Fatal(err)
	}
	poolEntry := func(uuid string) string {
		return fmt.Sprintf(`pools: %q: definition: {%stype: "dir", target: path: %q}`, pool, uuid, filepath.Join(e.dir, pool))
	}
	secretEntry := func(name string) string {
		return fmt.Sprintf(`secrets: %q: {definition: {private: true, usage: {type: "ceph", name: %q}}, value: file: "key"}`, name, usage)
	}
	as := func(state, owner string, args ...string) (string, error) {
		t.Setenv("NIXVIRT_STATE_DIR", state)
		return e.nixvirt(append(args[:len(args)-1:len(args)-1], "--owner", owner, args[len(args)-1])...)
	}
	cfgA := e.config("a.cue", poolEntry("")+"\n"+secretEntry("key-a"))
	if out, err := as(stateA, ownerA, "apply", cfgA); err != nil {
		t.Fatalf("A's apply: %v\n%s", err, out)
	}
	snapshot := func() string {
		return virsh(t, e.uri, "pool-dumpxml", "--inactive", pool) + virsh(t, e.uri, "secret-list")
	}
	before := snapshot()
	poolUUID := virsh(t, e.uri, "pool-uuid", pool)
	secrets := secretUUIDs()
	if len(secrets) != 1 {
		t.Fatalf("A's secret: %v", secrets)
	}

	cfgB := e.config("b.cue", poolEntry(`uuid: "0a0b0c0d-1111-4222-8333-444455556666", `)+"\n"+secretEntry("key-b"))
	claimedBy := fmt.Sprintf(`belongs to owner %q, another configuration (its state directory %s claims it)`, ownerA, stateA)
	out, err := as(stateB, ownerB, "plan", cfgB)
	for _, says := range []string{
		fmt.Sprintf(`! pool %q cannot be planned: a pool named %q exists with UUID %s, and it %s`, pool, pool, poolUUID, claimedBy),
		fmt.Sprintf(`! secret "key-b" cannot be planned: its usage (ceph %s) is secret %s's, which %s`, usage, secrets[0], claimedBy),
		"--take-over, which makes it this configuration's",
	} {
		if err == nil || !strings.Contains(out, says) {
			t.Errorf("B's plan does not say %q (%v):\n%s", says, err, out)
		}
	}
	if out, err := as(stateB, ownerB, "apply", cfgB); err == nil || !strings.Contains(out, fmt.Sprintf("pool/%s not changed: a pool named", pool)) ||
		!strings.Contains(out, "secret/key-b not changed: its usage") {
		t.Fatalf("B's apply (%v):\n%s", err, out)
	}
	if after := snapshot(); after != before {
		t.Fatalf("B's apply changed the host:\nbefore %s\nafter %s", before, after)
	}

	// A leaves pools out: its pool is kept, and plan says so.
	out, err = as(stateA, ownerA, "plan", e.config("a-secrets.cue", secretEntry("key-a")))
	if want := fmt.Sprintf(`· pools on %s: not in this configuration; keeping the one this owner has (%q)`, e.uri, pool); err != nil || !strings.Contains(out, want) {
		t.Fatalf("A's plan without pools does not say %q (%v):\n%s", want, err, out)
	}
	if out, err := as(stateA, ownerA, "apply", e.config("empty.cue", "pools: {}\nsecrets: {}")); err != nil {
		t.Fatalf("A's pruning apply: %v\n%s", err, out)
	}
	if len(secretUUIDs()) != 0 || strings.Contains(virsh(t, e.uri, "pool-list", "--all", "--name"), pool) {
		t.Fatal("A did not delete its pool and secret")
	}
}
