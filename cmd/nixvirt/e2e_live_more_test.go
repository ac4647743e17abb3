package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// smallGuest is a guest of the end-to-end tests below: a QEMU guest
// without an operating system (type qemu, CPU mode maximum) with two
// vCPUs and an I/O thread, and one interface on the network: a usb-net
// one, which the guest releases at once when it is detached (USB unplug
// needs no answer from the guest, unlike PCI), so that a re-attach after
// a network restart is seen to work cleanly.
type smallGuest struct {
	// pin pins vCPU 0, the emulator and the I/O thread to host CPU 0;
	// shares gives it cputune shares of 2048.
	pin, shares bool
	netAddr     string // the network's address, 10.213.x.1
	// virtioNIC: a virtio interface instead, which QEMU can save (usb-net
	// cannot be migrated, so not saved either).
	virtioNIC bool
}

// smallGuestSetup makes a state directory and the clean-up of the objects
// named id (domain and network) for one test; it returns the test's
// directory.
func smallGuestSetup(t *testing.T, uri, id string) string {
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	t.Cleanup(func() {
		exec.Command("virsh", "-c", uri, "destroy", id).Run()
		exec.Command("virsh", "-c", uri, "undefine", id).Run()
		exec.Command("virsh", "-c", uri, "net-destroy", id).Run()
		exec.Command("virsh", "-c", uri, "net-undefine", id).Run()
	})
	return dir
}

func smallGuestConfig(uri, id, bridge string, g smallGuest) string {
	var tune []string
	if g.pin {
		tune = append(tune, `vcpupin: [{vcpu: 0, cpuset: "0"}], emulatorpin: cpuset: "0", iothreadpin: [{iothread: 1, cpuset: "0"}]`)
	}
	if g.shares {
		tune = append(tune, `shares: 2048`)
	}
	cputune := ""
	if tune != nil {
		cputune = "cputune: {" + strings.Join(tune, ", ") + "}"
	}
	model := `model: type: "usb-net", address: {type: "usb", bus: 0, port: "1"}`
	if g.virtioNIC {
		model = `model: type: "virtio"`
	}
	return fmt.Sprintf(`connections: %q: {
	networks: %q: {
		definition: {
			bridge: name: %q
			ip: [{address: %q, prefix: 24}]
		}
		active: true
	}
	domains: %q: {
		definition: {
			type: "qemu"
			memory: {count: 128, unit: "MiB"}
			vcpu: {placement: "static", count: 2}
			iothreads: count: 1
			%s
			os: {type: "hvm", arch: "x86_64", machine: "pc"}
			features: {acpi: {}, apic: {}}
			cpu: mode: "maximum"
			devices: {
				controller: [{type: "usb", index: 0, model: "qemu-xhci"}]
				interface: [{type: "network", mac: address: "52:54:00:13:00:01", source: network: %q,
					%s}]
			}
		}
		active: true
		restart: null
		shutdownTimeout: 1
	}
}
`, uri, id, bridge, g.netAddr, id, cputune, id, model)
}

// applyConfig writes g's configuration and applies it; plan plans it.
func applyConfig(t *testing.T, dir, config string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, dir, "apply", "--no-prune", "host.cue")
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	return out
}

func planConfig(t *testing.T, dir, config string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, dir, "plan", "--no-prune", "host.cue")
	if err != nil {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	return out
}

// runningID waits until the domain runs and returns its id.
func runningID(t *testing.T, uri, id string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for virsh(t, uri, "domstate", id) != "running" {
		if time.Now().After(deadline) {
			t.Fatalf("domain %s did not start", id)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return virsh(t, uri, "domid", id)
}

// TestE2ELivePinning pins vCPU 0, the emulator and I/O thread 1 of a
// running guest to host CPU 0 and gives it CPU shares through apply: the
// guest keeps running
// (same id), and its running and persistent definitions both have the
// pins; plan afterwards has nothing to do and nothing pending. Taking the
// pins out again is live too, and leaves nothing pending. Objects are named nvxh13p-PID (bridge virbr-nvxh13p…,
// 10.213.1.0/24, no forward).
func TestE2ELivePinning(t *testing.T) {
	uri := e2eURI(t)
	n := os.Getpid() % 1000
	id := fmt.Sprintf("nvxh13p-%d", n)
	bridge := fmt.Sprintf("virbr-nvxh13p%d", n%100)
	dir := smallGuestSetup(t, uri, id)
	g := smallGuest{netAddr: "10.213.1.1"}
	applyConfig(t, dir, smallGuestConfig(uri, id, bridge, g))
	started := runningID(t, uri, id)

	g.pin, g.shares = true, true
	plan := planConfig(t, dir, smallGuestConfig(uri, id, bridge, g))
	if !strings.Contains(plan, "live      cputune.vcpupin[0] (pin-vcpu)") || !strings.Contains(plan, "live      cputune.emulatorpin (pin-emulator)") ||
		!strings.Contains(plan, "live      cputune.iothreadpin[1] (pin-iothread)") || !strings.Contains(plan, "live      cputune (set-scheduler-parameters)") ||
		strings.Contains(plan, "will restart") {
		t.Errorf("plan:\n%s", plan)
	}
	out := applyConfig(t, dir, smallGuestConfig(uri, id, bridge, g))
	t.Logf("plan:\n%s\napply:\n%s", plan, out)
	if !strings.Contains(out, "domain/"+id+" changed live") || strings.Contains(out, "restarted") {
		t.Errorf("apply:\n%s", out)
	}
	if now := virsh(t, uri, "domid", id); now != started {
		t.Fatalf("domain id %s, want %s: it restarted\n%s", now, started, out)
	}
	for _, flag := range []string{"", "--inactive"} {
		args := []string{"dumpxml", id}
		if flag != "" {
			args = append(args, flag)
		}
		x := virsh(t, uri, args...)
		for _, want := range []string{"<vcpupin vcpu='0' cpuset='0'/>", "<emulatorpin cpuset='0'/>", "<iothreadpin iothread='1' cpuset='0'/>", "<shares>2048</shares>"} {
			if !strings.Contains(x, want) {
				t.Errorf("dumpxml %s has no %s:\n%s", flag, want, x)
			}
		}
	}
	// libvirt's own view of the running threads' affinity.
	if aff := virsh(t, uri, "vcpupin", id, "0", "--live"); !hasAffinity(aff, "0", "0") {
		t.Errorf("vcpupin --live:\n%s", aff)
	}
	if plan := planConfig(t, dir, smallGuestConfig(uri, id, bridge, g)); !strings.Contains(plan, "No changes.") || strings.Contains(plan, "≠") {
		t.Errorf("plan after the pins:\n%s", plan)
	}

	// Taken out: libvirt has no call for that, so the threads are pinned
	// to every host CPU, as unpinned ones run; nothing is left pending.
	g.pin = false
	plan = planConfig(t, dir, smallGuestConfig(uri, id, bridge, g))
	if !strings.Contains(plan, "live      cputune.vcpupin[0] (pin-vcpu)") || strings.Contains(plan, "will restart") {
		t.Errorf("plan of the pins taken out:\n%s", plan)
	}
	out = applyConfig(t, dir, smallGuestConfig(uri, id, bridge, g))
	if !strings.Contains(out, "changed live") || strings.Contains(out, "restarted") || virsh(t, uri, "domid", id) != started {
		t.Errorf("apply of the pins taken out:\n%s", out)
	}
	if x := virsh(t, uri, "dumpxml", "--inactive", id); strings.Contains(x, "pin ") {
		t.Errorf("the persistent definition is still pinned:\n%s", x)
	}
	if aff := virsh(t, uri, "vcpupin", id, "0", "--live"); hasAffinity(aff, "0", "0") {
		t.Errorf("vCPU 0 is still on CPU 0 alone:\n%s", aff)
	}
	if plan := planConfig(t, dir, smallGuestConfig(uri, id, bridge, g)); !strings.Contains(plan, "No changes.") || strings.Contains(plan, "≠") {
		t.Errorf("plan after the pins were taken out:\n%s", plan)
	}
}

// hasAffinity reports whether virsh vcpupin's table has vCPU vcpu on
// the CPU list cpus, whatever the spacing.
func hasAffinity(table, vcpu, cpus string) bool {
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == vcpu && f[1] == cpus {
			return true
		}
	}
	return false
}

// TestE2ENetworkRestartReattaches changes the address of a running
// network while a running guest is attached to it: a restart of the
// network. The plan says beforehand that the guest keeps running and its
// interface is re-attached; apply restarts the network and detaches and
// attaches the guest's interface (a USB one, which a guest without an
// operating system releases at once), so the guest keeps its id and its
// interface is back on the new bridge. Objects are named nvxh13r-PID
// (bridge virbr-nvxh13r…, 10.213.2.0/24 then 10.213.3.0/24, no forward).
func TestE2ENetworkRestartReattaches(t *testing.T) {
	uri := e2eURI(t)
	n := os.Getpid() % 1000
	id := fmt.Sprintf("nvxh13r-%d", n)
	bridge := fmt.Sprintf("virbr-nvxh13r%d", n%100)
	dir := smallGuestSetup(t, uri, id)
	g := smallGuest{netAddr: "10.213.2.1"}
	applyConfig(t, dir, smallGuestConfig(uri, id, bridge, g))
	started := runningID(t, uri, id)
	portBefore := bridgePorts(t, bridge)
	if len(portBefore) != 1 {
		t.Fatalf("the bridge's ports before: %v", portBefore)
	}

	g.netAddr = "10.213.3.1"
	plan := planConfig(t, dir, smallGuestConfig(uri, id, bridge, g))
	if !strings.Contains(plan, "network \""+id+"\" will restart") || !strings.Contains(plan, "restart   ip") ||
		!strings.Contains(plan, "domain \""+id+"\" keeps running; its interfaces are re-attached after it") {
		t.Errorf("plan:\n%s", plan)
	}
	out := applyConfig(t, dir, smallGuestConfig(uri, id, bridge, g))
	t.Logf("plan:\n%s\napply:\n%s", plan, out)
	if !strings.Contains(out, "network/"+id+" redefined, restarted, domain \""+id+"\" kept running, its interfaces re-attached") ||
		strings.Contains(out, "stopped and started") {
		t.Errorf("apply:\n%s", out)
	}
	if now := virsh(t, uri, "domid", id); now != started {
		t.Fatalf("domain id %s, want %s: the network restart restarted it\n%s", now, started, out)
	}
	if ports := bridgePorts(t, bridge); len(ports) != 1 {
		t.Errorf("the bridge's ports after the restart: %v, want the guest's interface", ports)
	}
	if x := virsh(t, uri, "net-dumpxml", id); !strings.Contains(x, "10.213.3.1") {
		t.Errorf("the running network has not the new address:\n%s", x)
	}
	if x := virsh(t, uri, "dumpxml", id); !strings.Contains(x, "<mac address='52:54:00:13:00:01'/>") || !strings.Contains(x, "bridge='"+bridge+"'") {
		t.Errorf("the running guest's interface is not on the network:\n%s", x)
	}
	if plan := planConfig(t, dir, smallGuestConfig(uri, id, bridge, g)); !strings.Contains(plan, "No changes.") {
		t.Errorf("plan after the restart:\n%s", plan)
	}
}

// bridgePorts are the interfaces on a host bridge.
func bridgePorts(t *testing.T, bridge string) []string {
	t.Helper()
	out, err := exec.Command("ip", "-br", "link", "show", "master", bridge).CombinedOutput()
	if err != nil {
		t.Fatalf("ip link show master %s: %v\n%s", bridge, err, out)
	}
	var ports []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			ports = append(ports, f[0])
		}
	}
	return ports
}

// TestE2EPoolKeepsRunning applies a running dir pool: a file copied into
// its directory outside libvirt is found by the refresh that comes before
// volumes are created, and kept as it is rather than created over; the
// pool's autostart flag changes without stopping it; a change of its
// definition (another directory) is written and waits, shown as pending,
// until restart: true restarts it. The pool is named nvxh13v-PID, in
// temporary directories.
func TestE2EPoolKeepsRunning(t *testing.T) {
	uri := e2eURI(t)
	id := fmt.Sprintf("nvxh13v-%d", os.Getpid()%1000)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	target, err := os.MkdirTemp("", id+"-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(target, 0o755)
	moved, err := os.MkdirTemp("", id+"-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(moved, 0o755)
	t.Cleanup(func() {
		exec.Command("virsh", "-c", uri, "pool-destroy", id).Run()
		exec.Command("virsh", "-c", uri, "pool-undefine", id).Run()
		os.RemoveAll(target)
		os.RemoveAll(moved)
	})
	path, restart := target, "null"
	config := func(autostart bool, volumes ...string) string {
		var vs []string
		for _, v := range volumes {
			vs = append(vs, fmt.Sprintf(`%q: definition: {capacity: {count: 1, unit: "MiB"}, target: format: type: "raw"}`, v))
		}
		return fmt.Sprintf(`connections: %q: pools: %q: {
	definition: {type: "dir", target: path: %q}
	active: true
	autostart: %v
	restart: %s
	volumes: {%s}
}
`, uri, id, path, autostart, restart, strings.Join(vs, "\n"))
	}
	applyConfig(t, dir, config(false, "a.img"))
	// Put in outside libvirt, of the declared size: libvirt does not
	// list it until a refresh.
	outside := append([]byte("made outside libvirt"), make([]byte, 1<<20-20)...)
	if err := os.WriteFile(filepath.Join(target, "b.img"), outside, 0o644); err != nil {
		t.Fatal(err)
	}
	plan := planConfig(t, dir, config(false, "a.img", "b.img"))
	if !strings.Contains(plan, `~ pool "`+id+`" will be refreshed (its volumes rescanned; it keeps running)`) ||
		!strings.Contains(plan, `+ volume "b.img" in pool "`+id+`" will be created`) {
		t.Errorf("plan:\n%s", plan)
	}
	out := applyConfig(t, dir, config(false, "a.img", "b.img"))
	if !strings.Contains(out, "pool/"+id+" refreshed, volume b.img found when the pool was listed again; kept as it is") {
		t.Errorf("apply:\n%s", out)
	}
	if got, err := os.ReadFile(filepath.Join(target, "b.img")); err != nil || !bytes.Equal(got, outside) {
		t.Errorf("b.img after apply: %q, %v; want it kept", got, err)
	}
	if plan := planConfig(t, dir, config(false, "a.img", "b.img")); !strings.Contains(plan, "No changes.") {
		t.Errorf("plan after the refresh:\n%s", plan)
	}

	out = applyConfig(t, dir, config(true, "a.img", "b.img"))
	if strings.TrimSpace(strings.Split(out, "\n")[0]) != "pool/"+id+" autostart true" {
		t.Errorf("apply:\n%s", out)
	}
	info := virsh(t, uri, "pool-info", id)
	if !strings.Contains(info, "running") || !regexp.MustCompile(`Autostart:\s+yes`).MatchString(info) {
		t.Errorf("pool-info after autostart:\n%s", info)
	}

	// The volumes leave the configuration (which keeps them) and the pool
	// moves to another directory.
	path = moved
	plan = planConfig(t, dir, config(true))
	if !strings.Contains(plan, `~ pool "`+id+`" will be redefined`) || strings.Contains(plan, "will restart") ||
		!strings.Contains(plan, "next boot pool: libvirt reads a pool's definition when the pool starts") {
		t.Errorf("plan of a new directory:\n%s", plan)
	}
	out = applyConfig(t, dir, config(true))
	if strings.TrimSpace(strings.Split(out, "\n")[0]) != "pool/"+id+" redefined" {
		t.Errorf("apply of a new directory:\n%s", out)
	}
	if info := virsh(t, uri, "pool-info", id); !strings.Contains(info, "running") {
		t.Errorf("pool-info after the redefine:\n%s", info)
	}
	plan = planConfig(t, dir, config(true))
	if !strings.Contains(plan, `≠ pool "`+id+`" runs with an older definition until it restarts`) || !strings.Contains(plan, "No changes.") {
		t.Errorf("plan after the redefine:\n%s", plan)
	}
	restart = "true"
	out = applyConfig(t, dir, config(true))
	if strings.TrimSpace(strings.Split(out, "\n")[0]) != "pool/"+id+" restarted" {
		t.Errorf("apply with restart: true:\n%s", out)
	}
	restart = "null"
	if plan := planConfig(t, dir, config(true)); !strings.Contains(plan, "No changes.") || strings.Contains(plan, "≠") {
		t.Errorf("plan after the restart:\n%s", plan)
	}
	if x := virsh(t, uri, "pool-dumpxml", id); !strings.Contains(x, "<path>"+moved+"</path>") {
		t.Errorf("the restarted pool is not in the new directory:\n%s", x)
	}
}

// TestE2ERunningDriftPutBackWithoutRestart edits a running guest's
// persistent definition outside nixvirt (virsh define, as virsh edit
// does: more memory): drift the running guest never had. plan puts the
// configuration's definition back without a restart, and apply does so:
// the guest keeps its id, and the persistent definition has the
// configuration's memory again. Objects are named nvxh13d-PID (bridge
// virbr-nvxh13d…, 10.213.4.0/24, no forward).
func TestE2ERunningDriftPutBackWithoutRestart(t *testing.T) {
	uri := e2eURI(t)
	n := os.Getpid() % 1000
	id := fmt.Sprintf("nvxh13d-%d", n)
	bridge := fmt.Sprintf("virbr-nvxh13d%d", n%100)
	dir := smallGuestSetup(t, uri, id)
	config := smallGuestConfig(uri, id, bridge, smallGuest{netAddr: "10.213.4.1"})
	applyConfig(t, dir, config)
	started := runningID(t, uri, id)

	persistent := virsh(t, uri, "dumpxml", "--inactive", id)
	edited := strings.Replace(persistent, "<memory unit='KiB'>131072</memory>", "<memory unit='KiB'>196608</memory>", 1)
	if edited == persistent {
		t.Fatalf("no 128 MiB of memory in:\n%s", persistent)
	}
	file := filepath.Join(dir, "edited.xml")
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	virsh(t, uri, "define", file)

	plan := planConfig(t, dir, config)
	if !strings.Contains(plan, "changed outside nixvirt") || strings.Contains(plan, "will restart") {
		t.Errorf("plan:\n%s", plan)
	}
	out := applyConfig(t, dir, config)
	if !strings.Contains(out, "domain/"+id+" redefined") || strings.Contains(out, "restarted") {
		t.Errorf("apply:\n%s", out)
	}
	if now := virsh(t, uri, "domid", id); now != started {
		t.Fatalf("domain id %s, want %s: putting back drift it never ran with restarted it\n%s", now, started, out)
	}
	if p := virsh(t, uri, "dumpxml", "--inactive", id); !strings.Contains(p, "<memory unit='KiB'>131072</memory>") {
		t.Errorf("the persistent definition was not put back:\n%s", p)
	}
	if plan := planConfig(t, dir, config); !strings.Contains(plan, "No changes.") || strings.Contains(plan, "≠") {
		t.Errorf("plan after apply:\n%s", plan)
	}
}

// TestE2ESavedGuestRestartsAfterResuming saves a running guest
// (virsh managedsave) and changes its machine type, a change that
// restarts a running guest with restart: null. libvirt would resume the
// saved guest with its old definition; apply starts it (resuming it) and
// then restarts it, so that it runs with the new machine type, and plan
// says so beforehand. The image is not deleted by nixvirt: the start
// consumes it. Objects are named nvxh13s-PID (bridge virbr-nvxh13s…,
// 10.213.5.0/24, no forward).
func TestE2ESavedGuestRestartsAfterResuming(t *testing.T) {
	uri := e2eURI(t)
	n := os.Getpid() % 1000
	id := fmt.Sprintf("nvxh13s-%d", n)
	bridge := fmt.Sprintf("virbr-nvxh13s%d", n%100)
	dir := smallGuestSetup(t, uri, id)
	t.Cleanup(func() { exec.Command("virsh", "-c", uri, "managedsave-remove", id).Run() })
	config := smallGuestConfig(uri, id, bridge, smallGuest{netAddr: "10.213.5.1", virtioNIC: true})
	applyConfig(t, dir, config)
	runningID(t, uri, id)
	virsh(t, uri, "managedsave", id)

	changed := strings.Replace(config, `machine: "pc"`, `machine: "pc-i440fx-7.1"`, 1)
	plan := planConfig(t, dir, changed)
	for _, want := range []string{
		"it resumes from its managed save image, with the definition it was saved with",
		`↻ domain "` + id + `" will restart once it has resumed, to take its new definition`,
		"restart   os:",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	out := applyConfig(t, dir, changed)
	t.Logf("plan:\n%s\napply:\n%s", plan, out)
	if !strings.Contains(out, "domain/"+id+" redefined, started, restarted after it resumed, with its new definition") {
		t.Errorf("apply:\n%s", out)
	}
	runningID(t, uri, id)
	if x := virsh(t, uri, "dumpxml", id); !strings.Contains(x, "machine='pc-i440fx-7.1'") {
		t.Errorf("the guest runs with its old machine type:\n%s", x)
	}
	if plan := planConfig(t, dir, changed); !strings.Contains(plan, "No changes.") || strings.Contains(plan, "≠") {
		t.Errorf("plan after apply:\n%s", plan)
	}

	// Saved again; this time apply leaves it stopped (active: null) and
	// someone else starts it: it resumes with its old machine type, and
	// the next apply restarts it, once.
	virsh(t, uri, "managedsave", id)
	again := strings.Replace(strings.Replace(changed, `machine: "pc-i440fx-7.1"`, `machine: "pc-i440fx-7.0"`, 1),
		"active: true\n\t\trestart: null", "active: null\n\t\trestart: null", 1)
	if plan := planConfig(t, dir, again); !strings.Contains(plan, "it has a managed save image: started, it resumes with the definition it was saved with") {
		t.Errorf("plan with active: null:\n%s", plan)
	}
	if out := applyConfig(t, dir, again); !strings.Contains(out, "domain/"+id+" redefined") || strings.Contains(out, "started") {
		t.Errorf("apply with active: null:\n%s", out)
	}
	virsh(t, uri, "start", id)
	resumed := runningID(t, uri, id)
	if x := virsh(t, uri, "dumpxml", id); !strings.Contains(x, "machine='pc-i440fx-7.1'") {
		t.Errorf("the guest did not resume with its old machine type:\n%s", x)
	}
	plan = planConfig(t, dir, again)
	if !strings.Contains(plan, `↻ domain "`+id+`" will restart`) || !strings.Contains(plan, "because it was resumed from its managed save image with an older definition") {
		t.Errorf("plan after a start outside nixvirt:\n%s", plan)
	}
	if out := applyConfig(t, dir, again); !strings.Contains(out, "domain/"+id+" restarted") || virsh(t, uri, "domid", id) == resumed {
		t.Errorf("apply after a start outside nixvirt:\n%s", out)
	}
	if x := virsh(t, uri, "dumpxml", id); !strings.Contains(x, "machine='pc-i440fx-7.0'") {
		t.Errorf("the restarted guest has not the new machine type:\n%s", x)
	}
	if plan := planConfig(t, dir, again); !strings.Contains(plan, "No changes.") || strings.Contains(plan, "≠") {
		t.Errorf("plan after the restart:\n%s", plan)
	}
}
