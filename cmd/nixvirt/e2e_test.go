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
