//go:build !nolibvirt

package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/apply/live"
	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/noopmemo"
	"nixvirt.dev/nixvirt/internal/rpcread"
)

// hostReader answers a memo's reads through a libvirt connection, as the
// front does over RPC (package rpcread), so that what a run records and
// what repeating it reads can be compared on the test driver.
type hostReader struct{ h apply.Host }

func (r hostReader) List(kind string) ([]noopmemo.Object, error) {
	ls, err := r.h.List(compiler.Kind(kind))
	objs := make([]noopmemo.Object, len(ls))
	for i, l := range ls {
		objs[i] = noopmemo.Object{UUID: l.UUID, Name: l.Name, XML: l.XML, Active: l.Active, Autostart: l.Autostart}
	}
	return objs, err
}

func (r hostReader) Running(kind, uuid string) (string, error) {
	ls, err := r.h.(interface {
		ListWithRunning(compiler.Kind) ([]apply.Live, error)
	}).ListWithRunning(compiler.Kind(kind))
	for _, l := range ls {
		if l.UUID == uuid {
			return l.Running, err
		}
	}
	return "", err
}

func (r hostReader) Definition(kind, uuid string) (string, error) {
	return r.h.Definition(compiler.Kind(kind), uuid)
}

func (r hostReader) Volumes(pool string) ([]noopmemo.Volume, error) {
	vols, err := r.h.Volumes(pool)
	out := make([]noopmemo.Volume, len(vols))
	for i, v := range vols {
		out[i] = noopmemo.Volume{Name: v.Name, XML: v.XML}
	}
	return out, err
}

func (r hostReader) HasManagedSave(uuid string) (bool, error) { return r.h.HasManagedSave(uuid) }

func (r hostReader) HostCPUs() (string, error) {
	return r.h.(interface{ HostCPUs() (string, error) }).HostCPUs()
}

func (r hostReader) Resumed(uuid string) (bool, error) {
	return r.h.(interface{ Resumed(string) (bool, error) }).Resumed(uuid)
}

// freshWrites is a connection kept open that counts the writes made
// since it was given, as a connection of its own would.
type freshWrites struct {
	keepOpen
	base int64
}

func (f freshWrites) Writes() int64 { return f.keepOpen.Writes() - f.base }

// The capabilities of the libvirt host it keeps open, which a memo's
// recording host passes on (directCapabilities).

func (f freshWrites) ListWithRunning(k compiler.Kind) ([]apply.Live, error) {
	return f.Host.(interface {
		ListWithRunning(compiler.Kind) ([]apply.Live, error)
	}).ListWithRunning(k)
}

func (f freshWrites) RunningXML(k compiler.Kind, uuid string) (string, error) {
	return f.Host.(interface {
		RunningXML(compiler.Kind, string) (string, error)
	}).RunningXML(k, uuid)
}

func (f freshWrites) ApplyLive(k compiler.Kind, uuid string, c live.Change) error {
	return f.Host.(interface {
		ApplyLive(compiler.Kind, string, live.Change) error
	}).ApplyLive(k, uuid, c)
}

func (f freshWrites) Reattach(domainUUID, network, bridge string) error {
	return f.Host.(interface {
		Reattach(domainUUID, network, bridge string) error
	}).Reattach(domainUUID, network, bridge)
}

// memoCase is a configuration applied in-process to a test driver host
// that lives for the whole test.
type memoCase struct {
	t        *testing.T
	dir, uri string
	h        apply.Host
}

func newMemoCase(t *testing.T, settings string) *memoCase {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	host := `<node><domain type="test"><name>other</name><uuid>7e2e0000-0000-4000-8000-0000000000c9</uuid><memory unit="MiB">64</memory><os><type>hvm</type></os></domain></node>`
	write(t, filepath.Join(dir, "host.xml"), host)
	write(t, filepath.Join(dir, "settings.json"), settings)
	// The compile record is written only for files that changed before
	// the compile began.
	time.Sleep(2 * clockTick)
	mc := &memoCase{t: t, dir: dir, uri: "test://" + filepath.Join(dir, "host.xml")}
	h, err := apply.Connect(mc.uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	mc.h = h
	was, wasURI := dial, memoURI
	dial = func(string) (apply.Host, error) { return freshWrites{keepOpen{h}, h.Writes()}, nil }
	memoURI = func(string) bool { return true }
	t.Cleanup(func() { dial, memoURI = was, wasURI })
	return mc
}

func (mc *memoCase) args(command string) []string {
	return []string{command, "--yes", "--connect", mc.uri, "settings.json"}
}

// run runs a command line in-process; its output and exit code.
func (mc *memoCase) run(args ...string) (string, int) {
	var out strings.Builder
	code := newRootCmd(&out, &out, mc.dir).execute(args)
	return out.String(), code
}

// memo is the memo of a command line, nil when there is none.
func (mc *memoCase) memo(args []string) *noopmemo.Memo {
	m, err := noopmemo.Read(apply.StateDir(), args, mc.dir)
	if err != nil {
		return nil
	}
	return m
}

const memoSettings = `{"domains": [{"definition": {"type": "test", "name": "web", "uuid": "7e2e0000-0000-4000-8000-0000000000c1",
	"memory": {"count": 64, "unit": "MiB"}, "os": {"type": "hvm"}}, "active": false}]}`

// TestMemoOfNoopApply: an apply that changed nothing leaves a memo of
// what it printed and read, which the same host answers alike until it
// changes; an apply that changes something removes it.
func TestMemoOfNoopApply(t *testing.T) {
	mc := newMemoCase(t, memoSettings)
	args := mc.args("apply")
	if out, code := mc.run(args...); code != 0 || !strings.Contains(out, "1 added") {
		t.Fatalf("first apply: %d\n%s", code, out)
	}
	if mc.memo(args) != nil {
		t.Fatal("an apply that added a domain left a memo")
	}
	out, code := mc.run(args...)
	if code != 0 || !strings.Contains(out, "0 added, 0 changed, 0 destroyed") {
		t.Fatalf("no-op apply: %d\n%s", code, out)
	}
	m := mc.memo(args)
	if m == nil {
		t.Fatal("a no-op apply left no memo")
	}
	if m.Stdout+m.Stderr != out || len(m.Hosts) != 1 || m.Hosts[0].URI != mc.uri || len(m.Files) == 0 || m.State == "" {
		t.Fatalf("memo: %+v\nprinted:\n%s", m, out)
	}
	var kinds []string
	for _, c := range m.Hosts[0].Calls {
		if c.Method == noopmemo.MethodList {
			kinds = append(kinds, c.Kind)
		}
	}
	if len(kinds) != 4 {
		t.Errorf("the memo lists %v, want every kind", kinds)
	}
	if !noopmemo.Same(hostReader{mc.h}, m.Hosts[0].Calls) {
		t.Fatal("the unchanged host does not answer as recorded")
	}
	if noopmemo.StateDigest(apply.StateDir(), []string{apply.OwnersDir(), noopmemo.SystemOwnersDir}, []string{mc.uri}) != m.State {
		t.Fatal("the unchanged records have another digest")
	}

	// Another's domain, changed by hand: nothing to do, but another host.
	if err := mc.h.SetAutostart(compiler.KindDomain, "7e2e0000-0000-4000-8000-0000000000c9", true); err != nil {
		t.Fatal(err)
	}
	if noopmemo.Same(hostReader{mc.h}, m.Hosts[0].Calls) {
		t.Fatal("a domain's autostart changed and the host answers as recorded")
	}

	// Drift of our own (virsh edit): put back, and the memo goes.
	x, err := mc.h.Definition(compiler.KindDomain, "7e2e0000-0000-4000-8000-0000000000c1")
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.h.Define(compiler.KindDomain, strings.Replace(x, "<memory unit='KiB'>65536</memory>", "<memory unit='KiB'>131072</memory>", 1)); err != nil {
		t.Fatal(err)
	}
	if out, code := mc.run(args...); code != 0 || !strings.Contains(out, "1 changed") {
		t.Fatalf("apply of drift: %d\n%s", code, out)
	}
	if mc.memo(args) != nil {
		t.Error("an apply that changed a domain left a memo")
	}
	if _, code := mc.run(args...); code != 0 || mc.memo(args) == nil {
		t.Error("the next no-op apply left no memo")
	}
}

// TestMemoOfNoopPlan: plan leaves one too when it shows no changes, and
// none when it shows some.
func TestMemoOfNoopPlan(t *testing.T) {
	mc := newMemoCase(t, memoSettings)
	plan := []string{"plan", "--connect", mc.uri, "settings.json"}
	if out, code := mc.run(plan...); code != 0 || mc.memo(plan) != nil {
		t.Fatalf("a plan with changes left a memo (exit %d):\n%s", code, out)
	}
	if _, code := mc.run(mc.args("apply")...); code != 0 {
		t.Fatal("apply failed")
	}
	if out, code := mc.run(plan...); code != 0 || mc.memo(plan) == nil || mc.memo(plan).Stdout != out {
		t.Fatalf("a plan with no changes left no memo of its output (exit %d):\n%s", code, out)
	}
}

// TestNoMemo: runs that read what a memo cannot repeat, or failed, leave
// none.
func TestNoMemo(t *testing.T) {
	t.Run("secret value", func(t *testing.T) {
		// The test driver has no secrets: the configuration as built.
		d := &apply.Desired{Objects: map[string][]*apply.Wanted{"qemu:///system": {
			{Kind: compiler.KindDomain, Name: "web"},
			{Kind: compiler.KindSecret, Name: "disk", SecretValue: &compiler.SecretValue{Env: "NVXMEMO_VALUE"}},
		}}}
		if memoable(d) {
			t.Error("a configuration with a secret's value is memoable: the value is read at every plan")
		}
		d.Objects["qemu:///system"] = d.Objects["qemu:///system"][:1]
		if !memoable(d) {
			t.Error("a configuration of one domain is not memoable")
		}
		pool := &apply.Wanted{Kind: compiler.KindPool, Name: "vms", Volumes: []apply.WantedVolume{{Name: "a.img", Content: &compiler.Content{File: "/srv/a.img"}}}}
		d.Objects["qemu:///system"] = append(d.Objects["qemu:///system"], pool)
		if memoable(d) {
			t.Error("a volume whose content file has no sha256 is memoable: the file is hashed at every plan")
		}
		pool.Volumes[0].Content.SHA256 = "0000000000000000000000000000000000000000000000000000000000000000"
		if !memoable(d) {
			t.Error("a volume whose content file's sha256 is given is not memoable")
		}
	})
	t.Run("read outside the record", func(t *testing.T) {
		m := &memoRun{reads: map[string]map[memoCallKey]string{}, states: map[string]string{}}
		h := &recordingHost{Host: nil, run: m}
		_ = h.Unwrap()
		if !m.spoiled {
			t.Error("a host read through Unwrap did not spoil the memo")
		}
	})
	t.Run("answered twice differently", func(t *testing.T) {
		m := &memoRun{reads: map[string]map[memoCallKey]string{}}
		m.read("u", noopmemo.MethodList, compiler.KindDomain, "", "a", nil)
		m.read("u", noopmemo.MethodList, compiler.KindDomain, "", "b", nil)
		if !m.spoiled {
			t.Error("a host that changed within the run did not spoil the memo")
		}
	})
	t.Run("failed", func(t *testing.T) {
		mc := newMemoCase(t, memoSettings)
		args := mc.args("apply")
		mc.run(args...)
		mc.run(args...)
		if mc.memo(args) == nil {
			t.Fatal("no memo to begin with")
		}
		write(t, filepath.Join(mc.dir, "settings.json"), `{"domains": [{"definition": {"type": "test", "name": "web", "memory": "x"}}]}`)
		if _, code := mc.run(args...); code == 0 {
			t.Fatal("an invalid configuration applied")
		}
		if mc.memo(args) != nil {
			t.Error("a failed apply left the memo")
		}
	})
}

// TestMemoStateDirs: the front finds the state and owners directories
// where package apply keeps them.
func TestMemoStateDirs(t *testing.T) {
	for _, env := range []map[string]string{
		{"NIXVIRT_STATE_DIR": "/s", "NIXVIRT_OWNERS_DIR": "/o"},
		{"NIXVIRT_STATE_DIR": "", "NIXVIRT_OWNERS_DIR": "", "XDG_STATE_HOME": "/x"},
		{"NIXVIRT_STATE_DIR": "", "NIXVIRT_OWNERS_DIR": "", "XDG_STATE_HOME": "", "HOME": "/h"},
	} {
		for k, v := range env {
			t.Setenv(k, v)
		}
		if noopmemo.StateDir() != apply.StateDir() || noopmemo.OwnersDir() != apply.OwnersDir() {
			t.Errorf("%v: the memo's directories are %s and %s, apply's %s and %s", env,
				noopmemo.StateDir(), noopmemo.OwnersDir(), apply.StateDir(), apply.OwnersDir())
		}
	}
	_ = os.Getenv
}

// TestNoMemoOfTestDriver: a connection the front cannot read without
// libvirt's library (the test driver lives in the process) gets no memo.
func TestNoMemoOfTestDriver(t *testing.T) {
	mc := newMemoCase(t, memoSettings)
	memoURI = rpcread.Supported
	args := mc.args("apply")
	mc.run(args...)
	t.Setenv(noopmemo.TraceVar, "1")
	out, code := mc.run(args...)
	if code != 0 || mc.memo(args) != nil || !strings.Contains(out, "nixvirt: memo: not written: the front cannot read "+mc.uri) {
		t.Errorf("a no-op apply on the test driver (exit %d):\n%s", code, out)
	}
}

// TestRecordingHostCapabilities: every capability package apply asks a
// host for by a type assertion (not through hostAs, which finds those of
// a wrapped host) is one recordingHost has, and one directCapabilities
// requires of the host it wraps: a capability the wrapper lacked would
// change what the whole build plans and does (a restarted network's
// domains stopped instead of re-attached), with or without a memo.
func TestRecordingHostCapabilities(t *testing.T) {
	fset := token.NewFileSet()
	names, err := filepath.Glob("../../apply/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	interfaces := map[string][]string{} // declared in apply: their methods
	asserted := map[string]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if it, ok := ts.Type.(*ast.InterfaceType); ok {
					for _, m := range it.Methods.List {
						for _, name := range m.Names {
							interfaces[ts.Name.Name] = append(interfaces[ts.Name.Name], name.Name)
						}
					}
				}
			}
			return true
		})
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name == "hostAs" {
				continue // hostAs is the lookup that honours Unwrap
			}
			// A function that also asserts Unwrap looks through a wrapper
			// itself when the wrapper lacks what it asks for.
			names, unwraps := map[string]bool{}, false
			ast.Inspect(fn, func(n ast.Node) bool {
				ta, ok := n.(*ast.TypeAssertExpr)
				if !ok {
					return true
				}
				switch typ := ta.Type.(type) {
				case *ast.Ident:
					names[typ.Name] = true
				case *ast.InterfaceType:
					for _, m := range typ.Methods.List {
						for _, name := range m.Names {
							unwraps = unwraps || name.Name == "Unwrap"
							names["{"+name.Name+"}"] = true
						}
					}
				}
				return true
			})
			if !unwraps {
				for name := range names {
					asserted[name] = true
				}
			}
		}
	}
	rec := reflect.TypeOf(&recordingHost{})
	checked := 0
	for name := range asserted {
		methods, ok := interfaces[name]
		if strings.HasPrefix(name, "{") {
			methods, ok = []string{strings.Trim(name, "{}")}, true
		}
		if !ok || len(methods) == 0 {
			continue // not an interface of apply's (a concrete type, an error)
		}
		for _, m := range methods {
			if _, has := rec.MethodByName(m); !has {
				t.Errorf("apply asserts %s on a host directly; recordingHost lacks %s (give it the method, and directCapabilities the check)", name, m)
			}
			checked++
		}
	}
	if checked < 4 {
		t.Fatalf("found only %d methods of capabilities asserted directly: the scan misses them", checked)
	}
}
