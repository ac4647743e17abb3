package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// e2eURI is the libvirt connection of the end-to-end tests: a real
// libvirtd with QEMU, which .ci/run starts. Without it they are skipped.
func e2eURI(t *testing.T) string {
	uri := os.Getenv("NIXVIRT_E2E_URI")
	if uri == "" {
		t.Skip("NIXVIRT_E2E_URI is not set (.ci/run sets it to qemu:///system after starting libvirtd)")
	}
	return uri
}

func virsh(t *testing.T, uri string, args ...string) string {
	t.Helper()
	out, err := exec.Command("virsh", append([]string{"-c", uri}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("virsh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestE2ELinuxTemplateStarts defines a domain built from templates.#Linux,
// with its disk on a qcow2 volume of a test pool and its network card on
// an isolated test network, starts it under QEMU's software emulation and
// removes everything it made.
func TestE2ELinuxTemplateStarts(t *testing.T) {
	uri := e2eURI(t)
	id := fmt.Sprintf("nvx-e2e-%d", os.Getpid()%100000)
	dir := t.TempDir()
	bridge := fmt.Sprintf("virbr-nvx%d", os.Getpid()%100000)

	// No forward and no address: the network carries no traffic anywhere.
	netXML := filepath.Join(dir, "net.xml")
	os.WriteFile(netXML, []byte(fmt.Sprintf("<network><name>%s</name><bridge name=%q/></network>", id, bridge)), 0o644)
	virsh(t, uri, "net-define", netXML)
	t.Cleanup(func() {
		exec.Command("virsh", "-c", uri, "net-destroy", id).Run()
		exec.Command("virsh", "-c", uri, "net-undefine", id).Run()
	})
	virsh(t, uri, "net-start", id)

	// QEMU runs as its own user: the pool directory must be reachable.
	poolDir, err := os.MkdirTemp("", "nvx-e2e-pool-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(poolDir, 0o755)
	t.Cleanup(func() { os.RemoveAll(poolDir) })
	virsh(t, uri, "pool-define-as", id, "dir", "--target", poolDir)
	t.Cleanup(func() {
		exec.Command("virsh", "-c", uri, "vol-delete", "web.qcow2", "--pool", id).Run()
		exec.Command("virsh", "-c", uri, "pool-destroy", id).Run()
		exec.Command("virsh", "-c", uri, "pool-undefine", id).Run()
	})
	virsh(t, uri, "pool-start", id)
	virsh(t, uri, "vol-create-as", id, "web.qcow2", "64M", "--format", "qcow2")

	// The template as a user calls it, with what software emulation needs
	// set on top by plain unification: no KVM, so type qemu and the
	// emulator's maximum CPU; no 3D for SPICE.
	pkg := filepath.Join(dir, "pkg")
	os.Mkdir(pkg, 0o755)
	os.WriteFile(filepath.Join(pkg, "guest.cue"), []byte(fmt.Sprintf(`package guest

import "nixvirt.dev/nixvirt/templates"

guest: templates.#Linux & {
	type: "qemu"
	cpu: mode: "maximum"
	#args: {
		name:         %q
		uuid:         "7e2e0000-0000-4000-8000-%012d"
		memory:       {count: 256, unit: "MiB"}
		vcpu:         {count: 1}
		storage_vol:  {pool: %q, volume: "web.qcow2"}
		bridge_name:  %q
		virtio_video: false
	}
}
`, id, os.Getpid(), id, bridge)), 0o644)
	var stdout, stderr strings.Builder
	c := newRootCmd(&stdout, &stderr, pkg)
	c.root.SetArgs([]string{"export", "--kind", "domain", "-e", "guest", "."})
	if err := c.root.Execute(); err != nil {
		t.Fatalf("export: %v %s", err, stderr.String())
	}
	domXML := filepath.Join(dir, "web.xml")
	os.WriteFile(domXML, []byte(stdout.String()), 0o644)

	virsh(t, uri, "define", domXML)
	t.Cleanup(func() {
		exec.Command("virsh", "-c", uri, "destroy", id).Run()
		exec.Command("virsh", "-c", uri, "undefine", id).Run()
	})
	virsh(t, uri, "start", id)
	deadline := time.Now().Add(30 * time.Second)
	for virsh(t, uri, "domstate", id) != "running" {
		if time.Now().After(deadline) {
			t.Fatalf("domain %s did not start", id)
		}
		time.Sleep(200 * time.Millisecond)
	}
	live := virsh(t, uri, "dumpxml", id)
	for _, want := range []string{"volume='web.qcow2'", "bridge='" + bridge + "'", "org.qemu.guest_agent.0"} {
		if !strings.Contains(live, want) {
			t.Errorf("running domain lacks %s", want)
		}
	}
}

// run runs nixvirt in-process and returns its output and exit error.
func run(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	c := newRootCmd(&out, &out, dir)
	c.root.SetArgs(args)
	err := c.root.Execute()
	return out.String(), err
}

// TestE2EApply applies a configuration with an isolated network, a dir
// pool with qcow2 volumes and two domains on them to a real libvirtd,
// changes it (memory, a new disk) and applies again, restarting only the
// domain whose policy says so, then removes it; every step is checked
// through virsh. Its applies have their own owner, so that pruning
// touches nothing else on the host (TestE2EApplyLeavesOthersAlone).
func TestE2EApply(t *testing.T) {
	uri := e2eURI(t)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	applyScenario(t, uri, dir)
}

// applyScenario is TestE2EApply's, in dir (NIXVIRT_STATE_DIR is the
// caller's): its objects are named nvxPID…, its owner is nvx-e2e-PID.
func applyScenario(t *testing.T, uri, dir string) {
	id := fmt.Sprintf("nvx%d", os.Getpid()%100000)
	owner := "nvx-e2e-" + strings.TrimPrefix(id, "nvx")
	poolDir, err := os.MkdirTemp("", "nvx-e2e-pool-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(poolDir, 0o755)
	t.Cleanup(func() {
		for _, d := range []string{id + "-a", id + "-b"} {
			exec.Command("virsh", "-c", uri, "destroy", d).Run()
			exec.Command("virsh", "-c", uri, "undefine", d).Run()
		}
		exec.Command("virsh", "-c", uri, "pool-destroy", id).Run()
		exec.Command("virsh", "-c", uri, "pool-undefine", id).Run()
		exec.Command("virsh", "-c", uri, "net-destroy", id).Run()
		exec.Command("virsh", "-c", uri, "net-undefine", id).Run()
		os.RemoveAll(poolDir)
	})

	config := func(memA, memB int, extraDisk bool) string {
		disk := func(vol, dev string) string {
			return fmt.Sprintf(`{type: "volume", device: "disk", driver: {name: "qemu", type: "qcow2"}, source: {pool: %q, volume: %q}, target: {dev: %q, bus: "virtio"}}`, id, vol, dev)
		}
		domain := func(name string, mem int, restart string, disks ...string) string {
			return fmt.Sprintf(`%q: {
				definition: {
					type: "qemu"
					memory: {count: %d, unit: "MiB"}
					os: type: "hvm"
					devices: {
						disk: [%s]
						interface: {type: "network", source: network: %q, model: type: "virtio"}
						graphics: []
					}
				}
				active: true
				restart: %s
				shutdownTimeout: 1
			}`, name, mem, strings.Join(disks, ", "), id, restart)
		}
		disksA := []string{disk("a.qcow2", "vda")}
		if extraDisk {
			disksA = append(disksA, disk("c.qcow2", "vdb"))
		}
		return fmt.Sprintf(`connections: %q: {
	networks: %q: {definition: {bridge: name: "virbr-%s"}, active: true}
	pools: %q: {
		definition: {type: "dir", target: path: %q}
		active: true
		volumes: {
			"a.qcow2": definition: {capacity: {count: 64, unit: "MiB"}, target: format: type: "qcow2"}
			"b.qcow2": definition: {capacity: {count: 64, unit: "MiB"}, target: format: type: "qcow2"}
			"c.qcow2": definition: {capacity: {count: 64, unit: "MiB"}, target: format: type: "qcow2"}
		}
	}
	domains: {
		%s
		%s
	}
}
`, uri, id, id, id, poolDir, domain(id+"-a", memA, "null", disksA...), domain(id+"-b", memB, "false", disk("b.qcow2", "vda")))
	}
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	maxMem := func(dom string) string {
		for _, line := range strings.Split(virsh(t, uri, "dominfo", dom), "\n") {
			if strings.HasPrefix(line, "Max memory:") {
				return strings.TrimSpace(strings.TrimPrefix(line, "Max memory:"))
			}
		}
		return ""
	}

	// 1. Apply from nothing: everything is created and started.
	write(config(128, 128, false))
	if out, err := run(t, dir, "apply", "--owner", owner, "host.cue"); err != nil {
		t.Fatalf("first apply: %v\n%s", err, out)
	}
	for _, d := range []string{id + "-a", id + "-b"} {
		if s := virsh(t, uri, "domstate", d); s != "running" {
			t.Fatalf("%s is %s", d, s)
		}
	}
	if !strings.Contains(virsh(t, uri, "net-info", id), "Active:         yes") {
		t.Fatal("network not active")
	}
	if vols := virsh(t, uri, "vol-list", id); !strings.Contains(vols, "a.qcow2") || !strings.Contains(vols, "c.qcow2") {
		t.Fatalf("volumes: %s", vols)
	}

	// 2. Nothing to do the second time.
	if out, err := run(t, dir, "plan", "--owner", owner, "--detailed-exitcode", "host.cue"); err != nil {
		t.Fatalf("second plan has changes or failed: %v\n%s", err, out)
	}

	// 3. More memory for both, a new disk for a: a restarts (restart:
	// null), b is redefined but keeps running as it was (restart: false).
	write(config(192, 192, true))
	out, err := run(t, dir, "apply", "--owner", owner, "host.cue")
	if err != nil {
		t.Fatalf("second apply: %v\n%s", err, out)
	}
	if !strings.Contains(out, "domain/"+id+"-a redefined, restarted") || !strings.Contains(out, "domain/"+id+"-b redefined\n") {
		t.Fatalf("second apply:\n%s", out)
	}
	if m := maxMem(id + "-a"); m != "196608 KiB" {
		t.Errorf("a runs with %s, want its new 196608 KiB", m)
	}
	if m := maxMem(id + "-b"); m != "131072 KiB" {
		t.Errorf("b runs with %s, want its old 131072 KiB (restart: false)", m)
	}
	if !strings.Contains(virsh(t, uri, "dumpxml", "--inactive", id+"-b"), "196608") {
		t.Error("b's definition was not updated")
	}
	if !strings.Contains(virsh(t, uri, "dumpxml", id+"-a"), "c.qcow2") {
		t.Error("a's new disk is missing")
	}

	// 4. Removed from the configuration: deleted, volumes' files kept.
	write(fmt.Sprintf("connections: %q: {domains: [], networks: [], pools: []}\n", uri))
	if out, err := run(t, dir, "apply", "--owner", owner, "host.cue"); err != nil {
		t.Fatalf("removing apply: %v\n%s", err, out)
	}
	all := virsh(t, uri, "list", "--all", "--name")
	if strings.Contains(all, id) {
		t.Fatalf("domains left: %s", all)
	}
	if strings.Contains(virsh(t, uri, "net-list", "--all", "--name"), id) || strings.Contains(virsh(t, uri, "pool-list", "--all", "--name"), id) {
		t.Fatal("network or pool left")
	}
	if _, err := os.Stat(filepath.Join(poolDir, "a.qcow2")); err != nil {
		t.Fatalf("a pool's files must be kept: %v", err)
	}
}

// TestE2EImportAdopts imports a running guest that nixvirt did not define
// from a real libvirtd and plans the result: the guest is taken over
// without a change or a restart, and afterwards there is nothing to do.
func TestE2EImportAdopts(t *testing.T) {
	uri := e2eURI(t)
	name := fmt.Sprintf("nvx-adopt-%d", os.Getpid()%100000)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	domXML := filepath.Join(dir, "guest.xml")
	os.WriteFile(domXML, []byte(fmt.Sprintf(`<domain type="qemu"><name>%s</name><memory unit="MiB">128</memory>
<os><type arch="x86_64">hvm</type></os>
<devices><interface type="user"><model type="virtio"/></interface><graphics type="vnc" listen="127.0.0.1"/></devices></domain>`, name)), 0o644)
	virsh(t, uri, "define", domXML)
	t.Cleanup(func() {
		exec.Command("virsh", "-c", uri, "destroy", name).Run()
		exec.Command("virsh", "-c", uri, "undefine", name).Run()
	})
	virsh(t, uri, "start", name)

	out, err := run(t, dir, "import", "--connect", uri, "--kind", "domain", name)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	indented := "\t\t" + strings.ReplaceAll(strings.TrimSpace(out), "\n", "\n\t\t")
	config := fmt.Sprintf("connections: %q: domains: %q: {\n\tdefinition: {\n%s\n\t}\n\tactive: true\n}\n", uri, name, indented)
	if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, dir, "plan", "--no-prune", "host.cue")
	if err != nil || !strings.Contains(out, fmt.Sprintf("~ domain %q will be taken over", name)) || strings.Contains(out, "restart") {
		t.Fatalf("plan of the imported guest: %v\n%s", err, out)
	}
	if out, err := run(t, dir, "apply", "--no-prune", "host.cue"); err != nil || !strings.Contains(out, "adopted") {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if out, err := run(t, dir, "plan", "--no-prune", "--detailed-exitcode", "host.cue"); err != nil {
		t.Fatalf("after taking it over, plan is not empty: %v\n%s", err, out)
	}
	if s := virsh(t, uri, "domstate", name); s != "running" {
		t.Fatalf("the guest is %s", s)
	}
}
