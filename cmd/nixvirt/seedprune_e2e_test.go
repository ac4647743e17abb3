package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2ESeedGoesWithItsDomain defines a domain with a cloud-init seed on
// a real libvirtd, then deletes the domain (present: false): its seed
// volume goes too, and a volume the configuration declares stays. Its
// objects are named nvxh15-seed-*, its owner is nvx-h15.
func TestE2ESeedGoesWithItsDomain(t *testing.T) {
	uri := e2eURI(t)
	id := fmt.Sprintf("nvxh15-seed-%d", os.Getpid()%100000)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	poolDir, err := os.MkdirTemp("", "nvxh15-pool-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(poolDir, 0o755)
	t.Cleanup(func() { os.RemoveAll(poolDir) })
	t.Cleanup(func() {
		exec.Command("virsh", "-c", uri, "undefine", id).Run()
		deleteVolumes(t, uri, id)
		for _, args := range [][]string{{"pool-destroy", id}, {"pool-undefine", id}} {
			exec.Command("virsh", append([]string{"-c", uri}, args...)...).Run()
		}
		checkGone(t, uri, id)
	})
	write := func(domain string) {
		cfg := fmt.Sprintf(`package host

connections: %[1]q: {
	pools: %[2]q: {
		definition: {type: "dir", target: path: %[3]q}
		active: true
		volumes: "data.img": definition: {capacity: {count: 1, unit: "MiB"}, target: format: type: "raw"}
	}
	domains: %[2]q: %[4]s
}
`, uri, id, poolDir, domain)
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	apply := func() string {
		t.Helper()
		out, err := run(t, dir, "apply", "--owner", "nvx-h15", "host.cue")
		if err != nil {
			t.Fatalf("apply: %v\n%s", err, out)
		}
		return out
	}
	vols := func() string { return strings.Join(volNames(virsh(t, uri, "vol-list", id)), " ") }

	write(fmt.Sprintf(`{definition: {type: "qemu", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}, cloudInit: {pool: %q, userData: "#cloud-config\n"}}`, id))
	apply()
	if got := vols(); got != "data.img "+id+"-cidata.iso" {
		t.Fatalf("volumes after the first apply: %s", got)
	}
	write(`{present: false}`)
	out := apply()
	if !strings.Contains(out, fmt.Sprintf("domain/%s deleted, seed volume %s/%s-cidata.iso deleted", id, id, id)) {
		t.Fatalf("apply said:\n%s", out)
	}
	if got := vols(); got != "data.img" {
		t.Fatalf("volumes after deleting the domain: %s", got)
	}
	out, err = run(t, dir, "plan", "--owner", "nvx-h15", "host.cue")
	if err != nil || !strings.Contains(out, "No changes") {
		t.Fatalf("plan after: %v\n%s", err, out)
	}
}

// volNames reads the names of virsh vol-list's table (virsh 9.0 has no
// --name).
func volNames(table string) []string {
	var out []string
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "Name" || strings.HasPrefix(f[0], "---") {
			continue
		}
		out = append(out, f[0])
	}
	return out
}

// deleteVolumes deletes every volume of a test's pool, where a test's
// cleanup removes its pool: undefining the pool would leave them on disk.
// A volume that stays is an error of the test.
func deleteVolumes(t *testing.T, uri, pool string) {
	t.Helper()
	out, err := exec.Command("virsh", "-c", uri, "vol-list", pool).Output()
	if err != nil {
		return // no such pool, or not running: nothing it lists to delete
	}
	for _, v := range volNames(string(out)) {
		exec.Command("virsh", "-c", uri, "vol-delete", v, "--pool", pool).Run()
	}
	if out, err := exec.Command("virsh", "-c", uri, "vol-list", pool).Output(); err == nil {
		if left := volNames(string(out)); len(left) > 0 {
			t.Errorf("cleanup left volumes in pool %s: %v", pool, left)
		}
	}
}

// checkGone reports, at the end of a test's cleanup, any domain, network
// or pool named name that it left behind.
func checkGone(t *testing.T, uri, name string) {
	t.Helper()
	for kind, info := range map[string]string{"domain": "dominfo", "network": "net-info", "pool": "pool-info"} {
		if exec.Command("virsh", "-c", uri, info, name).Run() == nil {
			t.Errorf("cleanup left %s %s", kind, name)
		}
	}
}

// TestE2ESeedGoesWhenItsDomainDropsCloudInit: a domain that stays but
// drops cloudInit loses its seed on a real libvirtd: a stopped one at
// once, after its redefine; a running one (no OS, so the CD-ROM cannot
// leave it live) keeps its seed while it runs with it, the plan saying
// so, and loses it on the first apply after it restarted. Its objects are
// named nvxfix-seed-*, its owner is nvxfix-seed.
func TestE2ESeedGoesWhenItsDomainDropsCloudInit(t *testing.T) {
	uri := e2eURI(t)
	id := fmt.Sprintf("nvxfix-seed-%d", os.Getpid()%100000)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	poolDir, err := os.MkdirTemp("", "nvxfix-seed-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(poolDir, 0o755)
	t.Cleanup(func() { os.RemoveAll(poolDir) })
	t.Cleanup(func() {
		exec.Command("virsh", "-c", uri, "destroy", id).Run()
		exec.Command("virsh", "-c", uri, "undefine", id).Run()
		deleteVolumes(t, uri, id)
		for _, args := range [][]string{{"pool-destroy", id}, {"pool-undefine", id}} {
			exec.Command("virsh", append([]string{"-c", uri}, args...)...).Run()
		}
		checkGone(t, uri, id)
	})
	write := func(running, cloudInit bool) {
		t.Helper()
		seed := ""
		if cloudInit {
			seed = fmt.Sprintf(`cloudInit: {pool: %q, userData: "#cloud-config\n"}`, id)
		}
		cfg := fmt.Sprintf(`connections: %[1]q: {
	pools: %[2]q: {definition: {type: "dir", target: path: %[3]q}, active: true}
	domains: %[2]q: {
		definition: {type: "qemu", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
		active: %[4]v
		restart: false
		shutdownTimeout: 0
		%[5]s
	}
}
`, uri, id, poolDir, running, seed)
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	nixvirt := func(args ...string) string {
		t.Helper()
		out, err := run(t, dir, append(args, "--owner", "nvxfix-seed", "host.cue")...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", args[0], err, out)
		}
		return out
	}
	vols := func() string { return strings.Join(volNames(virsh(t, uri, "vol-list", id)), " ") }
	seed := id + "-cidata.iso"

	// Stopped: the seed goes in the apply that redefines the domain.
	write(false, true)
	nixvirt("apply")
	if got := vols(); got != seed {
		t.Fatalf("volumes after the first apply: %s", got)
	}
	write(false, false)
	if out := nixvirt("apply"); !strings.Contains(out, fmt.Sprintf("domain/%s redefined, seed volume %s/%s deleted", id, id, seed)) {
		t.Fatalf("apply said:\n%s", out)
	}
	if got := vols(); got != "" {
		t.Fatalf("volumes after dropping cloudInit: %s", got)
	}
	if out := nixvirt("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes") {
		t.Fatalf("plan after:\n%s", out)
	}

	// Running: kept while attached, gone after a restart.
	write(true, true)
	nixvirt("apply")
	if got := vols(); got != seed {
		t.Fatalf("volumes with cloudInit again: %s", got)
	}
	write(true, false)
	if out := nixvirt("apply"); strings.Contains(out, "seed volume") {
		t.Fatalf("the seed of a running domain went:\n%s", out)
	}
	if got := vols(); got != seed {
		t.Fatalf("volumes while the domain runs with its seed: %s", got)
	}
	if out := nixvirt("plan"); !strings.Contains(out, "cloud-init seed volume "+id+"/"+seed+": kept while the running domain has it attached") {
		t.Fatalf("plan while the domain runs with its seed:\n%s", out)
	}
	virsh(t, uri, "destroy", id)
	virsh(t, uri, "start", id)
	if out := nixvirt("apply"); !strings.Contains(out, fmt.Sprintf("seed volume %s/%s deleted", id, seed)) {
		t.Fatalf("apply after the restart:\n%s", out)
	}
	if got := vols(); got != "" {
		t.Fatalf("volumes after the restart: %s", got)
	}
	if out := nixvirt("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes") {
		t.Fatalf("plan at the end:\n%s", out)
	}
}
