package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EXMLImportPoolPlansCleanly imports a running dir pool with a
// volume from a real libvirtd as a #Config and plans it: what libvirt
// reports of the pool and volume (sizes, timestamps) is not imported, so
// the pool is only taken over and no volume is to be created.
func TestE2EXMLImportPoolPlansCleanly(t *testing.T) {
	uri := e2eURI(t)
	name := fmt.Sprintf("nvxxml-pool-%d", os.Getpid()%100000)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	poolDir := filepath.Join(dir, "pool")
	if err := os.Mkdir(poolDir, 0o755); err != nil {
		t.Fatal(err)
	}
	virsh(t, uri, "pool-define-as", name, "dir", "--target", poolDir)
	t.Cleanup(func() {
		_ = exec.Command("virsh", "-c", uri, "vol-delete", "data.raw", "--pool", name).Run()
		_ = exec.Command("virsh", "-c", uri, "pool-destroy", name).Run()
		_ = exec.Command("virsh", "-c", uri, "pool-undefine", name).Run()
	})
	virsh(t, uri, "pool-start", name)
	virsh(t, uri, "vol-create-as", name, "data.raw", "1M", "--format", "raw")
	if x := virsh(t, uri, "vol-dumpxml", "--pool", name, "data.raw"); !strings.Contains(x, "<timestamps>") {
		t.Fatalf("libvirt reports no timestamps, so this test checks nothing:\n%s", x)
	}

	out, err := run(t, dir, "import", "--connect", uri, "--kind", "pool", "--config", name)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	for _, reported := range []string{"timestamps", "btime", "allocation", "physical", "available"} {
		if strings.Contains(out, reported) {
			t.Errorf("import wrote %s, which libvirt reports:\n%s", reported, out)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, dir, "plan", "--no-prune", "host.cue")
	if err != nil || !strings.Contains(out, fmt.Sprintf("pool %q will be taken over", name)) ||
		strings.Contains(out, "redefined") || strings.Contains(out, "will be created") {
		t.Fatalf("plan of the imported pool: %v\n%s", err, out)
	}
}

// TestE2EXMLValuesWrittenOtherwise applies a pool whose path, mode and
// capacity are written otherwise than libvirt keeps them, then takes over
// a running Q35 guest whose root ports libvirt numbers in hexadecimal: a
// second plan has nothing to do and the guest is not restarted.
func TestE2EXMLValuesWrittenOtherwise(t *testing.T) {
	uri := e2eURI(t)
	id := fmt.Sprintf("nvxxml-%d", os.Getpid()%100000)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	poolDir := filepath.Join(dir, "pool")
	t.Cleanup(func() {
		_ = exec.Command("virsh", "-c", uri, "pool-destroy", id).Run()
		_ = exec.Command("virsh", "-c", uri, "pool-undefine", id).Run()
		_ = exec.Command("virsh", "-c", uri, "destroy", id).Run()
		_ = exec.Command("virsh", "-c", uri, "undefine", id).Run()
	})
	if err := os.Mkdir(poolDir, 0o755); err != nil {
		t.Fatal(err)
	}
	pool := fmt.Sprintf(`connections: %q: pools: %q: {
	definition: {
		type: "dir"
		capacity: {count: 1, unit: "GiB"}
		target: {path: %q, permissions: mode: octal: "755"}
	}
	active: true
}
`, uri, id, strings.Replace(poolDir, "/", "//", 1)+"/")
	if err := os.WriteFile(filepath.Join(dir, "pool.cue"), []byte(pool), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, dir, "apply", "--no-prune", "pool.cue"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	if out, err := run(t, dir, "plan", "--no-prune", "--detailed-exitcode", "pool.cue"); err != nil {
		t.Fatalf("a second plan of the pool is not empty: %v\n%s", err, out)
	}

	domXML := filepath.Join(dir, "guest.xml")
	if err := os.WriteFile(domXML, []byte(fmt.Sprintf(`<domain type="qemu"><name>%s</name><memory unit="MiB">64</memory>
<os><type arch="x86_64" machine="q35">hvm</type></os>
<devices><interface type="user"><model type="virtio"/></interface></devices></domain>`, id)), 0o644); err != nil {
		t.Fatal(err)
	}
	virsh(t, uri, "define", domXML)
	virsh(t, uri, "start", id)
	if x := virsh(t, uri, "dumpxml", "--inactive", id); !strings.Contains(x, "port='0x") {
		t.Fatalf("libvirt wrote no port in hexadecimal, so this test checks nothing:\n%s", x)
	}
	out, err := run(t, dir, "import", "--connect", uri, "--kind", "domain", "--config", id)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "guest.cue"), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, dir, "plan", "--no-prune", "guest.cue")
	if err != nil || !strings.Contains(out, fmt.Sprintf("domain %q will be taken over", id)) || strings.Contains(out, "restart") {
		t.Fatalf("plan of the imported guest: %v\n%s", err, out)
	}
}
