package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

// The end-to-end tests of drift, faults and plan consistency use objects
// named nvxdrift-* only, and never prune (other tests' objects may be on
// the host).

// desiredOf compiles a #Config given as CUE source.
func desiredOf(t *testing.T, src string) *apply.Desired {
	t.Helper()
	s, err := compiler.LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CheckConfig(s.Context().CompileString(src))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.Config(u, ".")
	if err != nil {
		t.Fatal(err)
	}
	d, err := apply.Build(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// applyCounting applies without pruning and returns the libvirt writes.
func applyCounting(t *testing.T, d *apply.Desired, state string) int64 {
	t.Helper()
	var lines []string
	res := apply.Apply(context.Background(), d, apply.Connect, apply.Options{State: apply.OpenState(state)}, func(o apply.Outcome) { lines = append(lines, apply.OutcomeText(o)) })
	if len(res.Failed) > 0 {
		t.Fatalf("apply failed: %v\n%s", res.Failed, strings.Join(lines, "\n"))
	}
	return res.Writes
}

// removeDrift removes what the drift tests make.
func removeDrift(uri string, poolDir string) {
	for _, d := range []string{"nvxdrift-a", "nvxdrift-b", "nvxdrift-k", "nvxdrift-u"} {
		exec.Command("virsh", "-c", uri, "destroy", d).Run()
		exec.Command("virsh", "-c", uri, "undefine", d).Run()
	}
	exec.Command("virsh", "-c", uri, "pool-destroy", "nvxdrift-pool").Run()
	exec.Command("virsh", "-c", uri, "pool-undefine", "nvxdrift-pool").Run()
	exec.Command("virsh", "-c", uri, "net-destroy", "nvxdrift-net").Run()
	exec.Command("virsh", "-c", uri, "net-undefine", "nvxdrift-net").Run()
	if poolDir != "" {
		os.RemoveAll(poolDir)
	}
}

// editOutside changes a definition as virsh edit does: dump the
// persistent definition, change it, define it.
func editOutside(t *testing.T, uri, dumpCmd, defineCmd, name, old, new string) {
	t.Helper()
	x := virsh(t, uri, dumpCmd, "--inactive", name)
	y := strings.Replace(x, old, new, 1)
	if y == x {
		t.Fatalf("%s %s has no %q:\n%s", dumpCmd, name, old, x)
	}
	f := filepath.Join(t.TempDir(), "edited.xml")
	os.WriteFile(f, []byte(y), 0o644)
	virsh(t, uri, defineCmd, f)
}

// driftConfig is a network (no forward, no address: no traffic), a dir
// pool with a volume, a running domain on them and a defined one.
func driftConfig(uri, poolDir string) string {
	return fmt.Sprintf(`connections: %q: {
	networks: "nvxdrift-net": {definition: {bridge: name: "virbr-nvxdrift"}, active: true}
	pools: "nvxdrift-pool": {
		definition: {type: "dir", target: path: %q}
		active: true
		volumes: "d.qcow2": definition: {capacity: {count: 16, unit: "MiB"}, target: format: type: "qcow2"}
	}
	domains: "nvxdrift-a": {
		definition: {
			type: "qemu", cpu: mode: "maximum"
			memory: {count: 128, unit: "MiB"}
			os: type: "hvm"
			devices: {
				disk: {type: "volume", device: "disk", driver: {name: "qemu", type: "qcow2"}, source: {pool: "nvxdrift-pool", volume: "d.qcow2"}, target: {dev: "vda", bus: "virtio"}}
				interface: {type: "network", source: network: "nvxdrift-net", model: type: "virtio"}
				graphics: []
			}
		}
		active: true
		shutdownTimeout: 1
	}
	domains: "nvxdrift-b": definition: {type: "qemu", cpu: mode: "maximum", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
}
`, uri, poolDir)
}

// TestE2EDrift: a second apply writes nothing (a running domain, an
// active network and pool included); a domain and a network edited
// outside nixvirt are planned as drift and put back by apply (the running
// domain and network, which never had the edits, without a restart),
// after which apply writes nothing again. A pool's target mode edited
// outside nixvirt is not drift: libvirt writes the directory's over it
// at each start.
func TestE2EDrift(t *testing.T) {
	uri := e2eURI(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	t.Setenv("NIXVIRT_STATE_DIR", state)
	poolDir, err := os.MkdirTemp("", "nvxdrift-pool-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(poolDir, 0o755)
	removeDrift(uri, "")
	t.Cleanup(func() { removeDrift(uri, poolDir) })
	src := driftConfig(uri, poolDir)
	os.WriteFile(filepath.Join(dir, "host.cue"), []byte(src), 0o644)
	d := desiredOf(t, src)

	applyCounting(t, d, state)
	if s := virsh(t, uri, "domstate", "nvxdrift-a"); s != "running" {
		t.Fatalf("nvxdrift-a is %s", s)
	}
	if out, err := run(t, dir, "plan", "--no-prune", "--detailed-exitcode", "host.cue"); err != nil {
		t.Fatalf("plan after apply: %v\n%s", err, out)
	}
	if w := applyCounting(t, d, state); w != 0 {
		t.Fatalf("second apply: %d libvirt writes", w)
	}
	if out, err := run(t, dir, "plan", "--no-prune", "--detailed-exitcode", "host.cue"); err != nil {
		t.Fatalf("plan after apply: %v\n%s", err, out)
	}

	// The domain: more memory and a CD-ROM, as virsh edit would.
	editOutside(t, uri, "dumpxml", "define", "nvxdrift-a", "<devices>", "<devices><disk type='file' device='cdrom'><target dev='sdc' bus='sata'/><readonly/></disk>")
	editOutside(t, uri, "dumpxml", "define", "nvxdrift-a", "<memory unit='KiB'>131072</memory>", "<memory unit='KiB'>262144</memory>")
	// The network: a DNS domain; the pool: a target mode, which libvirt
	// itself rewrites.
	editOutside(t, uri, "net-dumpxml", "net-define", "nvxdrift-net", "</network>", "<domain name='nvxdrift.test'/></network>")
	editOutside(t, uri, "pool-dumpxml", "pool-define", "nvxdrift-pool", "<mode>0755</mode>", "<mode>0711</mode>")

	out, err := run(t, dir, "plan", "--no-prune", "--detailed-exitcode", "host.cue")
	if code, ok := err.(exitCode); !ok || code != 2 {
		t.Fatalf("plan of drift: %v\n%s", err, out)
	}
	for _, want := range []string{
		`~ domain "nvxdrift-a" will be redefined`,
		`~ network "nvxdrift-net" will be redefined`,
		"changed outside nixvirt", "-  <memory unit=\"KiB\">262144</memory>", "device=\"cdrom\"", "nvxdrift.test",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `pool "nvxdrift-pool"`) {
		t.Errorf("plan takes the pool's target mode, which libvirt rewrites, for a change:\n%s", out)
	}
	// The running guest and network never had the edits: putting them
	// back restarts neither.
	if strings.Contains(out, "will restart") {
		t.Errorf("plan restarts for drift the running objects never had:\n%s", out)
	}
	id := virsh(t, uri, "domid", "nvxdrift-a")
	if out, err := run(t, dir, "apply", "--no-prune", "host.cue"); err != nil || strings.Contains(out, "restarted") {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	a := virsh(t, uri, "dumpxml", "--inactive", "nvxdrift-a")
	if strings.Contains(a, "cdrom") || !strings.Contains(a, "131072") {
		t.Errorf("nvxdrift-a was not put back:\n%s", a)
	}
	if now := virsh(t, uri, "domid", "nvxdrift-a"); now != id {
		t.Errorf("nvxdrift-a restarted (id %s, was %s)", now, id)
	}
	if s := virsh(t, uri, "domstate", "nvxdrift-a"); s != "running" {
		t.Fatalf("nvxdrift-a is %s", s)
	}
	if strings.Contains(virsh(t, uri, "net-dumpxml", "--inactive", "nvxdrift-net"), "nvxdrift.test") {
		t.Error("the network was not put back")
	}
	if w := applyCounting(t, d, state); w != 0 {
		t.Fatalf("apply after putting drift back: %d libvirt writes", w)
	}
}

// TestE2EPlanConsistent: a pool that active: false stops, with its
// volumes, applies again without failing and plans nothing; a pool the
// admin stopped (active unset) is left stopped; a domain whose UUID
// changed makes plan exit 1 and is not planned for deletion.
func TestE2EPlanConsistent(t *testing.T) {
	uri := e2eURI(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	t.Setenv("NIXVIRT_STATE_DIR", state)
	poolDir, err := os.MkdirTemp("", "nvxdrift-pool-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(poolDir, 0o755)
	removeDrift(uri, "")
	t.Cleanup(func() { removeDrift(uri, poolDir) })
	pool := func(active string) string {
		return fmt.Sprintf(`connections: %q: {
	pools: "nvxdrift-pool": {
		definition: {type: "dir", target: path: %q}
		%s
		volumes: "d.qcow2": definition: {capacity: {count: 16, unit: "MiB"}, target: format: type: "qcow2"}
	}
	domains: "nvxdrift-u": definition: {type: "qemu", uuid: "7e2e0000-0000-4000-8000-00000000d71f", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
}
`, uri, poolDir, active)
	}
	step := func(src string, args ...string) (string, error) {
		os.WriteFile(filepath.Join(dir, "host.cue"), []byte(src), 0o644)
		return run(t, dir, append(args, "--no-prune", "host.cue")...)
	}
	if out, err := step(pool("active: true"), "apply"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for i := 0; i < 2; i++ {
		if out, err := step(pool("active: false"), "apply"); err != nil {
			t.Fatalf("apply %d with active: false: %v\n%s", i, err, out)
		}
	}
	if out, err := step(pool("active: false"), "plan", "--detailed-exitcode"); err != nil {
		t.Fatalf("plan with active: false: %v\n%s", err, out)
	}
	if out, err := step(pool(""), "plan", "--detailed-exitcode"); err != nil {
		t.Fatalf("plan with active unset: %v\n%s", err, out)
	}
	if out, err := step(pool(""), "apply"); err != nil || strings.Contains(virsh(t, uri, "pool-info", "nvxdrift-pool"), "running") {
		t.Fatalf("apply with active unset started the stopped pool or failed: %v\n%s", err, out)
	}

	changed := strings.Replace(pool(""), "00000000d71f", "00000000d720", 1)
	out, err := step(changed, "plan", "--detailed-exitcode")
	if !errors.Is(err, errPrinted) || !strings.Contains(out, "cannot be planned") || strings.Contains(out, "will be deleted") {
		t.Fatalf("plan of a changed UUID: %v\n%s", err, out)
	}
}

// TestE2EKilledRestartConverges runs apply as a process and kills it
// (SIGKILL) while it restarts a domain, at several points: while it waits
// for the guest (which has no OS and ignores ACPI) to shut down; right
// after the guest went off during that wait; and a moment later. The
// entry leaves active unset, so only the journal can tell the next apply
// that the domain ran. The next apply must leave it running, and plan
// nothing after.
func TestE2EKilledRestartConverges(t *testing.T) {
	uri := e2eURI(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	t.Setenv("NIXVIRT_STATE_DIR", state)
	removeDrift(uri, "")
	t.Cleanup(func() { removeDrift(uri, "") })
	bin := filepath.Join(dir, "nixvirt")
	copyFile(t, builtBinary(t, "."), bin)
	config := func(mem int, active string) {
		src := fmt.Sprintf(`connections: %q: domains: "nvxdrift-k": {
	definition: {type: "qemu", cpu: mode: "maximum", memory: {count: %d, unit: "MiB"}, os: type: "hvm", devices: graphics: []}
	%s
	shutdownTimeout: 30
}
`, uri, mem, active)
		os.WriteFile(filepath.Join(dir, "host.cue"), []byte(src), 0o644)
	}
	config(64, "active: true")
	if out, err := run(t, dir, "apply", "--no-prune", "host.cue"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	journal := filepath.Join(state, strings.NewReplacer(":", "_", "/", "_").Replace(uri)+".journal.json")
	for i, point := range []struct {
		name    string
		destroy bool          // the guest goes off during the wait
		after   time.Duration // then apply is killed this much later
	}{
		{"during the shutdown wait", false, 0},
		{"as the guest went off", true, 0},
		{"after the guest went off", true, 300 * time.Millisecond},
		{"well after the guest went off", true, 1500 * time.Millisecond},
	} {
		t.Run(point.name, func(t *testing.T) {
			config(96+32*i, "")
			cmd := exec.Command(bin, "apply", "--no-prune", "host.cue")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "NIXVIRT_STATE_DIR="+state)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The journal names the domain just before apply stops it.
			deadline := time.Now().Add(60 * time.Second)
			for {
				if b, err := os.ReadFile(journal); err == nil && strings.Contains(string(b), "nvxdrift-k") {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatal("apply never began the restart")
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond) // in the shutdown wait
			if point.destroy {
				virsh(t, uri, "destroy", "nvxdrift-k")
				time.Sleep(point.after)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			t.Logf("killed; the domain is %s", virsh(t, uri, "domstate", "nvxdrift-k"))

			if out, err := run(t, dir, "apply", "--no-prune", "host.cue"); err != nil {
				t.Fatalf("apply after the kill: %v\n%s", err, out)
			}
			// Killed while libvirt started the guest, it is "paused
			// (starting up)" until libvirtd, which goes on, finishes.
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				s := virsh(t, uri, "domstate", "--reason", "nvxdrift-k")
				if strings.HasPrefix(s, "running") {
					break
				}
				if s != "paused (starting up)" || time.Now().After(deadline) {
					t.Fatalf("the domain is %s after the next apply", s)
				}
			}
			if !strings.Contains(virsh(t, uri, "dumpxml", "nvxdrift-k"), fmt.Sprintf("%d", (96+32*i)*1024)) {
				t.Error("the domain does not run with its new definition")
			}
			if out, err := run(t, dir, "plan", "--no-prune", "--detailed-exitcode", "host.cue"); err != nil {
				t.Fatalf("not converged: %v\n%s", err, out)
			}
		})
	}
}
