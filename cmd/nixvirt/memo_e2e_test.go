//go:build !nolibvirt

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/noopmemo"
	"nixvirt.dev/nixvirt/internal/rpcread"
)

// TestE2ERPCReadMatchesLibvirt: every read a memo repeats answers the
// same over libvirt's RPC protocol (package rpcread, the front's) as
// through libvirt's library (package apply, the whole build's), for
// every object on the host. Read only. Other tests may change the host
// meanwhile, so a difference is read again before it fails.
func TestE2ERPCReadMatchesLibvirt(t *testing.T) {
	uri := e2eURI(t)
	conn, err := rpcread.Dial(uri)
	if err != nil {
		t.Fatalf("rpcread cannot read %s: %v", uri, err)
	}
	defer conn.Close()
	h, err := apply.Connect(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	lib := hostReader{h}
	var last string
	for try := 0; try < 3; try++ {
		last = rpcDifference(t, conn, lib, h)
		if last == "" {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatal(last)
}

// rpcDifference is the first read that differs, "" when none does.
func rpcDifference(t *testing.T, conn *rpcread.Conn, lib hostReader, h apply.Host) string {
	t.Helper()
	reads := 0
	for _, k := range compiler.TopLevelKinds {
		kind := string(k)
		objs, err := conn.List(kind)
		want, werr := lib.List(kind)
		if err != nil || werr != nil || noopmemo.SumObjects(objs) != noopmemo.SumObjects(want) {
			return fmt.Sprintf("List(%s): over RPC %v (%v), through libvirt %v (%v)", kind, objs, err, want, werr)
		}
		reads++
		if k == compiler.KindSecret {
			continue
		}
		lives, err := h.(interface {
			ListWithRunning(compiler.Kind) ([]apply.Live, error)
		}).ListWithRunning(k)
		if err != nil {
			return err.Error()
		}
		for _, l := range lives {
			if x, err := conn.Definition(kind, l.UUID); err != nil || x != l.XML {
				return fmt.Sprintf("Definition(%s, %s) over RPC: %v\n%s\nthrough libvirt:\n%s", kind, l.Name, err, x, l.XML)
			}
			reads++
			if l.Running != "" {
				if x, err := conn.Running(kind, l.UUID); err != nil || x != l.Running {
					return fmt.Sprintf("Running(%s, %s) over RPC: %v\n%s\nthrough libvirt:\n%s", kind, l.Name, err, x, l.Running)
				}
				reads++
			}
			switch k {
			case compiler.KindDomain:
				has, err := conn.HasManagedSave(l.UUID)
				want, werr := h.HasManagedSave(l.UUID)
				if err != nil || werr != nil || has != want {
					return fmt.Sprintf("HasManagedSave(%s): over RPC %v (%v), through libvirt %v (%v)", l.Name, has, err, want, werr)
				}
				if l.Active {
					resumed, err := conn.Resumed(l.UUID)
					want, werr := lib.Resumed(l.UUID)
					if err != nil || werr != nil || resumed != want {
						return fmt.Sprintf("Resumed(%s): over RPC %v (%v), through libvirt %v (%v)", l.Name, resumed, err, want, werr)
					}
				}
			case compiler.KindPool:
				vols, err := conn.Volumes(l.Name)
				want, werr := lib.Volumes(l.Name)
				if err != nil || werr != nil || noopmemo.SumVolumes(vols) != noopmemo.SumVolumes(want) {
					return fmt.Sprintf("Volumes(%s): over RPC %v (%v), through libvirt %v (%v)", l.Name, vols, err, want, werr)
				}
				if l.Active {
					x, err := conn.Running(kind, l.UUID)
					want, werr := h.(interface{ RunningPoolXML(string) (string, error) }).RunningPoolXML(l.UUID)
					if err != nil || werr != nil || x != want {
						return fmt.Sprintf("Running(pool, %s) over RPC: %v\n%s\nthrough libvirt (%v):\n%s", l.Name, err, x, werr, want)
					}
				}
			}
			reads++
		}
	}
	cpus, err := conn.HostCPUs()
	want, werr := lib.HostCPUs()
	if err != nil || werr != nil || cpus != want {
		return fmt.Sprintf("HostCPUs: over RPC %q (%v), through libvirt %q (%v)", cpus, err, want, werr)
	}
	t.Logf("%d reads alike", reads+1)
	return ""
}

// TestE2ENoopApplyFromMemo: nixvirt as installed (the front and the two
// builds beside it) answers a no-op apply of NixVirt's settings file from
// the memo the whole build left, printing what it printed, and hands
// over as soon as the host or the files change: a domain changed by
// hand, by another owner or in the settings.
func TestE2ENoopApplyFromMemo(t *testing.T) {
	uri := e2eURI(t)
	bins := buildThree(t)
	id := fmt.Sprintf("nvxmemo%d", os.Getpid()%100000)
	dir := t.TempDir()
	env := append(os.Environ(), "NIXVIRT_STATE_DIR="+filepath.Join(dir, "state"), "NIXVIRT_OWNERS_DIR="+filepath.Join(dir, "owners"))
	domain := func(n int, active bool) string {
		return fmt.Sprintf(`{"definition": {"type": "qemu", "name": "%s-%d", "memory": {"count": 32, "unit": "MiB"}, "os": {"type": "hvm"}}, "active": %v}`, id, n, active)
	}
	settings := filepath.Join(dir, "settings.json")
	writeSettings := func(domains ...string) {
		t.Helper()
		write(t, settings, `{"domains": [`+strings.Join(domains, ", ")+`]}`)
	}
	writeSettings(domain(1, true), domain(2, false))
	t.Cleanup(func() {
		for n := 1; n <= 3; n++ {
			name := fmt.Sprintf("%s-%d", id, n)
			_ = exec.Command("virsh", "-c", uri, "destroy", name).Run()
			_ = exec.Command("virsh", "-c", uri, "undefine", name).Run()
		}
	})
	apply := func(trace bool) (stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bins, "nixvirt"), "apply", "--yes", "--owner", id, "--connect", uri, "settings.json")
		cmd.Dir, cmd.Env = dir, env
		if trace {
			cmd.Env = append(cmd.Env, noopmemo.TraceVar+"=1")
		}
		var out, errs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errs
		if err := cmd.Run(); err != nil {
			t.Fatalf("apply: %v\n%s%s", err, out.String(), errs.String())
		}
		return out.String(), errs.String()
	}
	// answered reports whether a run was answered from the memo, and
	// checks that it printed what the run before it printed.
	noop := "Apply complete: 0 added, 0 changed, 0 destroyed, 0 failed.\n"
	answered := func(wantStdout string) bool {
		t.Helper()
		out, errs := apply(true)
		if out != wantStdout {
			t.Errorf("printed %q, want %q (%s)", out, wantStdout, errs)
		}
		t.Logf("memo: %s", strings.TrimSpace(errs))
		return strings.Contains(errs, "nixvirt: memo: answered from the memo")
	}
	if out, _ := apply(false); !strings.Contains(out, "2 added") {
		t.Fatalf("first apply: %s", out)
	}
	if answered(noop) {
		t.Fatal("the apply after one that added domains was answered from a memo")
	}
	for i := 0; i < 2; i++ {
		if !answered(noop) {
			t.Fatal("a no-op apply was not answered from the memo the one before left")
		}
	}

	// By hand: a domain of ours stopped (NixVirt's active: true starts it
	// again), then one of another owner defined.
	virsh(t, uri, "destroy", id+"-1")
	if answered("domain/" + id + "-1 started\nApply complete: 0 added, 1 changed, 0 destroyed, 0 failed.\n") {
		t.Error("a stopped domain went unseen")
	}
	if answered(noop) {
		t.Error("the apply after one that started a domain was answered from a memo")
	}
	if !answered(noop) {
		t.Error("a no-op apply was not answered from the memo")
	}
	other := filepath.Join(dir, "other.xml")
	write(t, other, fmt.Sprintf(`<domain type="qemu"><name>%s-3</name><memory unit="MiB">32</memory><os><type>hvm</type></os></domain>`, id))
	virsh(t, uri, "define", other)
	if answered(noop) {
		t.Error("another's new domain went unseen")
	}
	if !answered(noop) {
		t.Error("a no-op apply was not answered from the memo")
	}

	// The settings changed: a domain left out is pruned.
	time.Sleep(10 * time.Millisecond)
	writeSettings(domain(1, true))
	if answered("domain/" + id + "-2 deleted\nApply complete: 0 added, 0 changed, 1 destroyed, 0 failed.\n") {
		t.Error("changed settings went unseen")
	}
}
