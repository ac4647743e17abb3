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

// liveGuest is what TestE2ELiveApply changes from one apply to the next.
type liveGuest struct {
	machine       string
	restart       string // "null", "false"
	scsiDisk      bool
	cdrom         string // the CD-ROM's image
	secondNIC     bool
	currentMemory int // MiB
	vcpus         int // current, of 2
	bootOrder     string
	dhcpHost      bool
	netDomain     bool // the network's <domain name>: a restart
}

// TestE2ELiveApply runs a QEMU guest without an operating system (type
// qemu, CPU mode maximum) on an isolated network of a real libvirtd and
// changes it through `nixvirt apply --no-prune`: a SCSI disk added and
// removed, a CD-ROM's media, an interface added, currentMemory and the
// vCPU count, a DHCP host and a DNS host on the running network, each
// with the guest's id unchanged and the running and persistent
// definitions both showing the change; a boot order change that waits
// for the next boot, which plan shows as pending; a live change libvirt
// refuses, which falls back to the restart policy with libvirt's reason;
// and a machine type change, which restarts only as the policy says.
// Everything it makes is named nvxli-… (network bridge nvxli<n>,
// 10.253.7.0/24, no forward) and removed at the end.
func TestE2ELiveApply(t *testing.T) {
	uri := e2eURI(t)
	n := os.Getpid() % 100000
	id := fmt.Sprintf("nvxli-%d", n)
	bridge := fmt.Sprintf("nvxli%d", n)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	// QEMU runs as its own user and must reach the images.
	images, err := os.MkdirTemp("", id+"-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(images, 0o755)
	for _, name := range []string{"one.iso", "two.iso", "data.img"} {
		if err := os.WriteFile(filepath.Join(images, name), make([]byte, 1<<20), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		exec.Command("virsh", "-c", uri, "destroy", id).Run()
		exec.Command("virsh", "-c", uri, "undefine", id).Run()
		exec.Command("virsh", "-c", uri, "net-destroy", id).Run()
		exec.Command("virsh", "-c", uri, "net-undefine", id).Run()
		os.RemoveAll(images)
	})

	config := func(g liveGuest) string {
		disks := []string{fmt.Sprintf(`{type: "file", device: "cdrom", driver: {name: "qemu", type: "raw"}, source: {file: %q, startupPolicy: "optional"}, target: {dev: "hdc", bus: "ide"}, readonly: true}`, filepath.Join(images, g.cdrom))}
		if g.scsiDisk {
			disks = append(disks, fmt.Sprintf(`{type: "file", device: "disk", driver: {name: "qemu", type: "raw"}, source: file: %q, target: {dev: "sdb", bus: "scsi"}}`, filepath.Join(images, "data.img")))
		}
		nics := []string{fmt.Sprintf(`{type: "network", mac: address: "52:54:00:53:07:01", source: network: %q, model: type: "virtio"}`, id)}
		if g.secondNIC {
			nics = append(nics, fmt.Sprintf(`{type: "network", mac: address: "52:54:00:53:07:02", source: network: %q, model: type: "virtio"}`, id))
		}
		hosts, dns := "", ""
		if g.netDomain {
			dns = `domain: name: "nvxli"` + "\n"
		}
		if g.dhcpHost {
			hosts = `host: [{mac: "52:54:00:53:07:02", name: "second", ip: "10.253.7.12"}]`
			dns += `dns: host: [{ip: "10.253.7.12", hostname: "second.nvxli"}]`
		}
		return fmt.Sprintf(`connections: %q: {
	networks: %q: {
		definition: {
			bridge: name: %q
			ip: [{address: "10.253.7.1", prefix: 24, dhcp: {range: [{start: "10.253.7.100", end: "10.253.7.200"}], %s}}]
			%s
		}
		active: true
	}
	domains: %q: {
		definition: {
			type: "qemu"
			memory: {count: 256, unit: "MiB"}
			currentMemory: {count: %d, unit: "MiB"}
			vcpu: {placement: "static", count: 2, current: %d}
			os: {type: "hvm", arch: "x86_64", machine: %q, boot: [%s]}
			features: {acpi: {}, apic: {}}
			cpu: mode: "maximum"
			devices: {
				controller: [{type: "scsi", index: 0, model: "virtio-scsi"}]
				disk: [%s]
				interface: [%s]
				memballoon: model: "virtio"
			}
		}
		active: true
		restart: %s
		shutdownTimeout: 1
	}
}
`, uri, id, bridge, hosts, dns, id, g.currentMemory, g.vcpus, g.machine, g.bootOrder, strings.Join(disks, ", "), strings.Join(nics, ", "), g.restart)
	}
	write := func(t *testing.T, g liveGuest) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(config(g)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	apply := func(t *testing.T, g liveGuest) string {
		t.Helper()
		write(t, g)
		out, err := run(t, dir, "apply", "--no-prune", "host.cue")
		if err != nil {
			t.Fatalf("apply: %v\n%s", err, out)
		}
		return out
	}
	plan := func(t *testing.T) string {
		t.Helper()
		out, err := run(t, dir, "plan", "--no-prune", "host.cue")
		if err != nil {
			t.Fatalf("plan: %v\n%s", err, out)
		}
		return out
	}
	domID := func() string { return virsh(t, uri, "domid", id) }
	// both checks the running and the persistent definition of the domain
	// (or, with net, of the network). Single-quoted values are libvirt's;
	// nixvirt's mark, in the metadata, holds its definition with double
	// quotes.
	both := func(t *testing.T, net, has bool, texts ...string) {
		t.Helper()
		cmd := "dumpxml"
		if net {
			cmd = "net-dumpxml"
		}
		running, persistent := virsh(t, uri, cmd, id), virsh(t, uri, cmd, "--inactive", id)
		for _, s := range texts {
			if strings.Contains(running, s) != has {
				t.Errorf("running definition has %q: %v, want %v\n%s", s, !has, has, running)
			}
			if strings.Contains(persistent, s) != has {
				t.Errorf("persistent definition has %q: %v, want %v\n%s", s, !has, has, persistent)
			}
		}
	}

	g := liveGuest{machine: "pc-i440fx-7.2", restart: "null", cdrom: "one.iso", currentMemory: 256, vcpus: 1, bootOrder: `{dev: "hd"}`}
	apply(t, g)
	deadline := time.Now().Add(30 * time.Second)
	for virsh(t, uri, "domstate", id) != "running" {
		if time.Now().After(deadline) {
			t.Fatalf("domain %s did not start", id)
		}
		time.Sleep(200 * time.Millisecond)
	}
	started := domID()
	if out := plan(t); !strings.Contains(out, "No changes.") || strings.Contains(out, "≠") {
		t.Fatalf("plan after the first apply:\n%s", out)
	}
	// step applies g and wants the guest to keep running as it was, and
	// the apply's output to say it changed it live.
	step := func(t *testing.T, g liveGuest) string {
		t.Helper()
		out := apply(t, g)
		if !strings.Contains(out, "changed live") || strings.Contains(out, "restarted") {
			t.Errorf("apply:\n%s", out)
		}
		if now := domID(); now != started {
			t.Fatalf("domain id %s, want %s: it restarted\n%s", now, started, out)
		}
		return out
	}

	t.Run("SCSI disk added", func(t *testing.T) {
		g.scsiDisk = true
		step(t, g)
		both(t, false, true, "data.img'", "dev='sdb'")
	})
	t.Run("SCSI disk removed", func(t *testing.T) {
		g.scsiDisk = false
		step(t, g)
		both(t, false, false, "data.img'", "dev='sdb'")
	})
	t.Run("CD-ROM media changed", func(t *testing.T) {
		g.cdrom = "two.iso"
		step(t, g)
		both(t, false, true, "two.iso'")
		both(t, false, false, "one.iso'")
	})
	t.Run("interface added", func(t *testing.T) {
		g.secondNIC = true
		step(t, g)
		both(t, false, true, "52:54:00:53:07:02")
	})
	t.Run("currentMemory and vCPUs", func(t *testing.T) {
		g.currentMemory, g.vcpus = 192, 2
		step(t, g)
		// The running definition shows the balloon's actual size, which
		// only a balloon driver in the guest moves: the persistent one has
		// the new target.
		if p := virsh(t, uri, "dumpxml", "--inactive", id); !strings.Contains(p, "<currentMemory unit='KiB'>196608</currentMemory>") {
			t.Errorf("persistent currentMemory is not 192 MiB:\n%s", p)
		}
		for _, flag := range []string{"--live", "--config"} {
			if n := virsh(t, uri, "vcpucount", id, "--current", flag); n != "2" {
				t.Errorf("vcpucount %s: %s, want 2", flag, n)
			}
		}
	})
	t.Run("DHCP host and DNS host on the running network", func(t *testing.T) {
		g.dhcpHost = true
		out := apply(t, g)
		if !strings.Contains(out, "network/"+id+" changed live") || strings.Contains(out, "restarted") {
			t.Errorf("apply:\n%s", out)
		}
		both(t, true, true, "<host mac='52:54:00:53:07:02' name='second' ip='10.253.7.12'/>", "<hostname>second.nvxli</hostname>")
		if now := domID(); now != started {
			t.Fatalf("domain id %s, want %s: the network change restarted it", now, started)
		}
	})
	t.Run("boot order waits for the next boot", func(t *testing.T) {
		g.bootOrder = `{dev: "cdrom"}, {dev: "hd"}`
		write(t, g)
		if out := plan(t); !strings.Contains(out, "next boot os.boot") || strings.Contains(out, "will restart") {
			t.Errorf("plan:\n%s", out)
		}
		out := apply(t, g)
		if !strings.Contains(out, "redefined") || strings.Contains(out, "restarted") || domID() != started {
			t.Errorf("apply:\n%s", out)
		}
		// Nothing left to apply, but the running guest still boots from
		// its old order until it restarts: plan says so.
		out = plan(t)
		if !strings.Contains(out, "≠ domain \""+id+"\" runs with an older definition") || !strings.Contains(out, "os.boot") {
			t.Errorf("plan after a next-boot change:\n%s", out)
		}
		if _, err := run(t, dir, "plan", "--no-prune", "--detailed-exitcode", "host.cue"); err != nil {
			t.Errorf("a pending difference is not a change to apply: %v", err)
		}
	})
	t.Run("machine type with restart false", func(t *testing.T) {
		g.machine, g.restart = "pc-i440fx-7.1", "false"
		out := apply(t, g)
		if strings.Contains(out, "restarted") || domID() != started {
			t.Errorf("restart: false restarted the guest:\n%s", out)
		}
		if out := plan(t); !strings.Contains(out, "restart   os") || !strings.Contains(out, "differs until it restarts") {
			t.Errorf("plan after a restart change with restart: false:\n%s", out)
		}
	})
	t.Run("refused live change falls back to a restart", func(t *testing.T) {
		// Media that does not exist: QEMU cannot open it, so libvirt
		// refuses the change; restart: null restarts the guest, which
		// starts without the media (startupPolicy optional).
		g.cdrom, g.restart = "missing.iso", "null"
		out := apply(t, g)
		if !strings.Contains(out, "libvirt refused to change devices.disk[hdc] live") || !strings.Contains(out, "restarted") {
			t.Errorf("apply:\n%s", out)
		}
		if now := domID(); now == started || now == "-" {
			t.Errorf("domain id %s: want a restarted guest", now)
		}
		started = domID()
		// The restart took the pending machine type and boot order with
		// it; the guest runs without the media that does not exist, and
		// plan says so.
		if out := plan(t); !strings.Contains(out, "No changes.") || strings.Contains(out, " os") ||
			!strings.Contains(out, "devices.disk[hdc]") {
			t.Errorf("plan after the restart:\n%s", out)
		}
		if r := virsh(t, uri, "dumpxml", id); !strings.Contains(r, "pc-i440fx-7.1") {
			t.Errorf("the restarted guest does not run machine pc-i440fx-7.1:\n%s", r)
		}
	})
	t.Run("machine type with restart null", func(t *testing.T) {
		g.machine = "pc-i440fx-7.0"
		out := apply(t, g)
		if !strings.Contains(out, "restarted") || domID() == started {
			t.Errorf("apply:\n%s", out)
		}
		both(t, false, true, "pc-i440fx-7.0")
	})
	t.Run("network restart re-attaches the running domain", func(t *testing.T) {
		// A restart-class change of the network: the running domain is not
		// stopped before it; its interfaces are re-attached after, and a
		// guest that cannot release them (this one has no operating system
		// to answer the PCI unplug) is stopped and started instead, with
		// the reason shown. Either way its interfaces end up on the new
		// bridge.
		g.netDomain = true
		write(t, g)
		if out := plan(t); !strings.Contains(out, "keeps running; its interfaces are re-attached after it") {
			t.Errorf("plan:\n%s", out)
		}
		out := apply(t, g)
		if !strings.Contains(out, "network/"+id+" redefined, restarted") ||
			!(domID() == started || strings.Contains(out, ", domain \""+id+"\" stopped and started: the guest did not release interface")) {
			t.Errorf("apply:\n%s", out)
		}
		ports, err := exec.Command("ip", "-br", "link", "show", "master", bridge).CombinedOutput()
		if err != nil || strings.Count(string(ports), "vnet") != 2 {
			t.Errorf("the bridge's ports after the restart: %v\n%s", err, ports)
		}
	})
}
