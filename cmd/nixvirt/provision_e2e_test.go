package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EProvision applies volume content (a file, a URL served on
// 127.0.0.1, a copy, an overlay), grows a volume and refuses to shrink
// it, replaces one, attaches a cloud-init seed and rebuilds it only when
// its text changes, and waits for an address that never comes, on a
// real libvirtd. Its objects are named nvxpi-*; it never prunes.
func TestE2EProvision(t *testing.T) {
	uri := e2eURI(t)
	n := os.Getpid() % 100000
	id := fmt.Sprintf("nvxpi-%d", n)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	poolDir, err := os.MkdirTemp("", "nvxpi-pool-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(poolDir, 0o755)
	t.Cleanup(func() { os.RemoveAll(poolDir) })
	t.Cleanup(func() {
		for _, args := range [][]string{{"destroy", id}, {"undefine", id}} {
			exec.Command("virsh", append([]string{"-c", uri}, args...)...).Run()
		}
		deleteVolumes(t, uri, id)
		for _, args := range [][]string{{"pool-destroy", id}, {"pool-undefine", id}, {"net-destroy", id}, {"net-undefine", id}} {
			exec.Command("virsh", append([]string{"-c", uri}, args...)...).Run()
		}
		checkGone(t, uri, id)
	})

	// Content: a local raw file, and two downloads.
	raw := make([]byte, 1<<20)
	copy(raw, "nixvirt raw content")
	rawFile := filepath.Join(dir, "raw.img")
	os.WriteFile(rawFile, raw, 0o644)
	served := map[string][]byte{"/a.img": []byte(strings.Repeat("A", 4096)), "/b.img": []byte(strings.Repeat("B", 8192))}
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		if b, ok := served[r.URL.Path]; ok {
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

	type knobs struct {
		dlPath, dlSum, rawCap, user string
		replace                     bool
	}
	write := func(k knobs) {
		t.Helper()
		cfg := fmt.Sprintf(`connections: %[1]q: {
	networks: %[2]q: {definition: bridge: name: "nvxpibr%[3]d", active: true}
	pools: %[2]q: {
		definition: {type: "dir", target: path: %[4]q}
		active: true
		volumes: {
			// The copy and the overlay come first: apply makes them after
			// what they are made from.
			"copy.img": {definition: {capacity: {count: 2, unit: "MiB"}, target: format: type: "raw"}
				content: clone: {pool: %[2]q, volume: "raw.img"}}
			"overlay.qcow2": definition: {capacity: {count: 4, unit: "MiB"}, target: format: type: "qcow2"
				backingStore: {path: "%[4]s/raw.img", format: type: "raw"}}
			"raw.img": {definition: {capacity: {count: %[5]s, unit: "bytes"}, target: format: type: "raw"}
				content: {file: %[6]q, sha256: %[7]q}}
			"dl.img": {definition: {capacity: {count: 8192, unit: "bytes"}, target: format: type: "raw"}
				content: {url: "%[8]s%[9]s", sha256: %[10]q}, replace: %[11]v}
		}
	}
	domains: %[2]q: {
		definition: {type: "qemu", memory: {count: 64, unit: "MiB"}, os: type: "hvm"
			devices: interface: {type: "network", source: network: %[2]q}}
		active: true
		shutdownTimeout: 0
		cloudInit: {pool: %[2]q, userData: {users: [{name: %[12]q}]}}
		waitFor: timeout: 4
	}
}
`, uri, id, n, poolDir, k.rawCap, rawFile, sum(raw), srv.URL, k.dlPath, k.dlSum, k.replace, k.user)
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	apply := func() (string, time.Duration, error) {
		start := time.Now()
		out, err := run(t, dir, "apply", "--no-prune", "host.cue")
		return out, time.Since(start), err
	}
	volInfo := func(v string) string { return virsh(t, uri, "vol-info", "--bytes", v, "--pool", id) }

	// A wrong checksum: an error before anything is created.
	good := knobs{dlPath: "/a.img", dlSum: sum(served["/a.img"]), rawCap: "2097152", user: "ops"}
	bad := good
	bad.dlSum = sum([]byte("something else"))
	write(bad)
	out, _, err := apply()
	if err == nil || !strings.Contains(out, "sha256 of the download is") {
		t.Fatalf("wrong checksum: %v\n%s", err, out)
	}
	if exec.Command("virsh", "-c", uri, "pool-info", id).Run() == nil {
		t.Fatalf("the pool was defined although a volume's checksum was wrong")
	}

	// Everything, and a wait for an address that never comes (no OS)
	// that gives up within its timeout.
	write(good)
	out, took, err := apply()
	if err == nil || !strings.Contains(out, "no address within 4s") || took > 30*time.Second {
		t.Fatalf("first apply (%s): %v\n%s", took, err, out)
	}
	for _, want := range []string{"volume raw.img created", "volume dl.img created", "volume copy.img created", "volume overlay.qcow2 created", "volume " + id + "-cidata.iso created"} {
		if !strings.Contains(out, want) {
			t.Errorf("first apply lacks %q:\n%s", want, out)
		}
	}
	if got := volInfo("raw.img"); !strings.Contains(got, "2097152 bytes") {
		t.Errorf("raw.img not grown to its capacity:\n%s", got)
	}
	dump := filepath.Join(dir, "copy.out")
	virsh(t, uri, "vol-download", "copy.img", dump, "--pool", id)
	if b, _ := os.ReadFile(dump); !strings.HasPrefix(string(b), "nixvirt raw content") {
		t.Errorf("copy.img does not hold raw.img's content")
	}
	virsh(t, uri, "vol-download", "dl.img", dump, "--pool", id)
	if b, _ := os.ReadFile(dump); !strings.HasPrefix(string(b), "AAAA") {
		t.Errorf("dl.img does not hold the download")
	}
	if got := virsh(t, uri, "vol-dumpxml", "overlay.qcow2", "--pool", id); !strings.Contains(got, "<backingStore>") || !strings.Contains(got, "raw.img") {
		t.Errorf("overlay without its backing store:\n%s", got)
	}
	seed := filepath.Join(dir, "seed.iso")
	virsh(t, uri, "vol-download", id+"-cidata.iso", seed, "--pool", id)
	if info, err := exec.Command("isoinfo", "-d", "-i", seed).CombinedOutput(); err != nil || !strings.Contains(string(info), "Volume id: cidata") ||
		!strings.Contains(string(info), "Joliet") || !strings.Contains(string(info), "Rock Ridge") {
		t.Errorf("seed: %v\n%s", err, info)
	}
	if files, _ := exec.Command("isoinfo", "-R", "-f", "-i", seed).Output(); !strings.Contains(string(files), "/user-data") || !strings.Contains(string(files), "/meta-data") {
		t.Errorf("seed files: %s", files)
	}
	dom := virsh(t, uri, "dumpxml", "--inactive", id)
	if !strings.Contains(dom, "device='cdrom'") || !strings.Contains(dom, "<readonly/>") || !strings.Contains(dom, "volume='"+id+"-cidata.iso'") {
		t.Errorf("seed not attached read-only:\n%s", dom)
	}

	// status: the domain runs, its interface has no address (no OS).
	out, err = run(t, dir, "status", "--connect", uri, id)
	if err != nil || !strings.Contains(out, fmt.Sprintf("domain %q: running", id)) || !strings.Contains(out, "(no address yet)") {
		t.Fatalf("status: %v\n%s", err, out)
	}
	if out, err = run(t, dir, "status", "host.cue"); err != nil || !strings.Contains(out, fmt.Sprintf("pool %q: running", id)) {
		t.Fatalf("status of the configuration: %v\n%s", err, out)
	}

	// Second apply: nothing uploaded, nothing downloaded, nothing to do.
	requests = 0
	out, _, err = apply()
	if err != nil || !strings.Contains(out, "Apply complete: 0 added, 0 changed, 0 destroyed, 0 failed.") || requests != 0 {
		t.Fatalf("second apply (%d requests): %v\n%s", requests, err, out)
	}

	// Grow; then a smaller capacity is refused for that volume only.
	grow := good
	grow.rawCap = "3145728"
	write(grow)
	if out, _, err = apply(); err != nil || !strings.Contains(out, "volume raw.img grown to 3145728 bytes") {
		t.Fatalf("grow: %v\n%s", err, out)
	}
	shrink := good
	shrink.rawCap = "1048576"
	write(shrink)
	out, _ = run(t, dir, "plan", "--no-prune", "host.cue")
	if !strings.Contains(out, `volume "raw.img" in pool "`+id+`" cannot be planned: capacity 1048576 bytes is smaller than the volume's 3145728`) {
		t.Fatalf("shrink plan:\n%s", out)
	}
	if out, _, err = apply(); err == nil || !strings.Contains(volInfo("raw.img"), "3145728 bytes") {
		t.Fatalf("shrink apply: %v\n%s", err, out)
	}

	// Another download: shown, refused without replace, done with it.
	other := grow
	other.dlPath, other.dlSum = "/b.img", sum(served["/b.img"])
	write(other)
	if out, _, err = apply(); err == nil || !strings.Contains(out, "apply never overwrites a volume") {
		t.Fatalf("content change without replace: %v\n%s", err, out)
	}
	other.replace = true
	write(other)
	if out, _, err = apply(); err != nil || !strings.Contains(out, "volume dl.img replaced") {
		t.Fatalf("replace: %v\n%s", err, out)
	}
	virsh(t, uri, "vol-download", "dl.img", dump, "--pool", id)
	if b, _ := os.ReadFile(dump); !strings.HasPrefix(string(b), "BBBB") {
		t.Errorf("dl.img not replaced")
	}

	// The seed is rebuilt when its text changes, and said so.
	changed := other
	changed.user = "admin"
	write(changed)
	out, _ = run(t, dir, "plan", "--no-prune", "host.cue")
	if !strings.Contains(out, "will be replaced (cloud-init seed of domain") || !strings.Contains(out, "reads it only if cloud-init runs again") {
		t.Fatalf("seed plan:\n%s", out)
	}
	if out, _, err = apply(); err != nil || !strings.Contains(out, "volume "+id+"-cidata.iso replaced") {
		t.Fatalf("seed apply: %v\n%s", err, out)
	}
	if out, err = run(t, dir, "plan", "--no-prune", "--detailed-exitcode", "host.cue"); err != nil {
		t.Fatalf("plan after all: %v\n%s", err, out)
	}
}
