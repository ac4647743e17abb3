package apply

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// TestStateDirRefusedWhenOthersCanWrite: a state directory another user can
// write in (where a planted link would make root write through it) is
// refused for reading, writing and locking.
func TestStateDirRefusedWhenOthersCanWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	st := OpenState(dir)
	if err := st.check("test:///default"); err == nil || !strings.Contains(err.Error(), "writable by other users") {
		t.Errorf("check: %v", err)
	}
	if _, err := st.lock("test:///default"); err == nil {
		t.Error("lock took a world-writable directory")
	}
	if err := OpenState(dir).setPool("test:///default", "11111111-2222-4333-8444-555555555555", poolRecord{Hash: "h", Definition: "<pool/>"}); err == nil {
		t.Error("setPool wrote into a world-writable directory")
	}
	if files, _ := os.ReadDir(dir); len(files) != 0 {
		t.Errorf("files written: %v", files)
	}
}

// TestStateDirRefusedWhenNotOwned: a directory that belongs to another
// user is not trusted, even when only its owner can write it.
func TestStateDirRefusedWhenNotOwned(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a directory of another user needs root")
	}
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenState(dir).lock("test:///default"); err == nil || !strings.Contains(err.Error(), "belongs to user 65534") {
		t.Errorf("lock: %v", err)
	}
}

// TestStateNewDirIsPrivate: a state directory nixvirt makes is its user's
// alone, and so are its files.
func TestStateNewDirIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	st := OpenState(dir)
	if err := st.setPool("test:///default", "11111111-2222-4333-8444-555555555555", poolRecord{Hash: "h", Definition: "<pool/>"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, st.file("test:///default", ".json")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %04o", p, fi.Mode().Perm())
		}
	}
}

// TestStateFollowsNoLinks: a link planted where the lock or the record
// goes is not written through, and the record is replaced, never written
// in place.
func TestStateFollowsNoLinks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st := OpenState(dir)
	if err := os.Symlink(victim, st.file("test:///default", ".lock")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.lock("test:///default"); err == nil {
		t.Error("lock opened a symbolic link")
	}
	if err := os.Symlink(victim, st.file("test:///default", ".json")); err != nil {
		t.Fatal(err)
	}
	if err := st.check("test:///default"); err == nil {
		t.Error("a record that is a symbolic link was read")
	}
	if err := OpenState(dir).setPool("test:///default", "11111111-2222-4333-8444-555555555555", poolRecord{Hash: "h", Definition: "<pool/>"}); err == nil {
		t.Error("setPool replaced a record it could not read")
	}
	if data, _ := os.ReadFile(victim); string(data) != "precious\n" {
		t.Errorf("the link's target was written: %q", data)
	}
}

// TestStateCorruptRecordIsAnError: a record that cannot be parsed, or
// that holds no object (null decodes as nothing recorded), stops plan with
// the file's name; read as empty it would disown every pool.
func TestStateCorruptRecordIsAnError(t *testing.T) {
	for _, content := range []string{`{"pools": {"x": `, "null"} {
		th := newTestHost(t)
		th.apply(web)
		file := th.st.file(th.uri, ".json")
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		th.st = OpenState(th.st.dir)
		p := th.plan(`domains: [], networks: [], pools: []`)
		if len(p.Errors) != 1 || !strings.Contains(p.Errors[0], file) || !strings.Contains(p.Errors[0], "corrupt") {
			t.Fatalf("%q: errors: %v", content, p.Errors)
		}
		if len(p.Changes) != 0 {
			t.Fatalf("%q: planned changes from a corrupt record: %s", content, actions(p))
		}
	}
}

// TestPlantedPoolRecordDeletesNothing: a record naming a pool nixvirt did
// not define (pools carry no mark) does not make it nixvirt's to delete.
func TestPlantedPoolRecordDeletesNothing(t *testing.T) {
	th := newTestHost(t)
	const uuid = "33333333-4444-4555-8666-777777777777"
	xml := `<pool type="dir"><name>manualpool</name><uuid>` + uuid + `</uuid><target><path>/tmp/nvxin-manualpool</path></target></pool>`
	if err := th.host.Define(compiler.KindPool, xml); err != nil {
		t.Fatal(err)
	}
	for _, planted := range []poolRecord{
		{Hash: "planted", Definition: `<pool type="dir"><name>other</name><uuid>` + uuid + `</uuid><target><path>/tmp/x</path></target></pool>`},
		{Hash: "planted", Definition: `<pool type="dir"><name>manualpool</name><uuid>` + uuid + `</uuid><target><path>/srv/elsewhere</path></target></pool>`},
	} {
		th.st = OpenState(t.TempDir())
		if err := th.st.setPool(th.uri, uuid, planted); err != nil {
			t.Fatal(err)
		}
		p := th.plan(`pools: []`)
		if strings.Contains(actions(p), "pool/manualpool") {
			t.Fatalf("a planted record made nixvirt plan: %s", actions(p))
		}
	}
}

func TestConnectionFileName(t *testing.T) {
	for uri, want := range map[string]string{
		"qemu:///system":               "qemu____system",
		"qemu+ssh://root@h/system?x=1": "qemu_ssh___root_h_system_x_1",
		"test:///default":              "test____default",
		"..":                           "__",
		".":                            "_",
		"lab.example-1_x":              "lab.example-1_x",
	} {
		if got := compiler.ConnectionFileName(uri); got != want {
			t.Errorf("ConnectionFileName(%q) = %q, want %q", uri, got, want)
		}
	}
	s := OpenState(t.TempDir())
	if got, want := filepath.Base(s.file("qemu:///system", ".json")), "qemu____system.json"; got != want {
		t.Errorf("state file of qemu:///system is %q, want %q", got, want)
	}
}

// permsFromDirectory is a host whose pools, when they start, get their
// target's permissions rewritten as libvirt does: from the directory
// (here 0755, root's), whatever their definition said.
type permsFromDirectory struct{ Host }

var permissionsElement = regexp.MustCompile(`(?s)<permissions>.*?</permissions>`)

func (h permsFromDirectory) Start(k compiler.Kind, uuid string) error {
	if k == compiler.KindPool {
		// The test driver shows a running pool's new definition only once
		// it stops: the rewrite is made just before the start instead.
		def, err := h.Host.Definition(k, uuid)
		if err != nil {
			return err
		}
		rewritten := permissionsElement.ReplaceAllString(def, "<permissions><mode>0755</mode><owner>0</owner><group>0</group></permissions>")
		if err := h.Host.Define(k, rewritten); err != nil {
			return err
		}
	}
	return h.Host.Start(k, uuid)
}

// TestPoolStaysOwnedWhenLibvirtRewritesPermissions: a pool whose declared
// target permissions libvirt rewrites when it starts stays nixvirt's (the
// next plan is empty, not a take-over), also after it is restarted;
// a pool that differs in anything else is not.
func TestPoolStaysOwnedWhenLibvirtRewritesPermissions(t *testing.T) {
	th := newTestHost(t)
	th.wrap = func(h Host) Host { return permsFromDirectory{keepOpen{h}} }
	pool := `pools: vms: {definition: {type: "dir", target: {path: "/var/lib/nvt", permissions: mode: octal: "0700"}}, active: true}`
	th.apply(pool)
	if def := th.live(compiler.KindPool, "vms").XML; !strings.Contains(def, "<mode>0755</mode>") {
		t.Fatalf("the permissions were not rewritten, so this shows nothing:\n%s", def)
	}
	if p := th.plan(pool); actions(p) != "" {
		t.Fatalf("plan after apply: %s", actions(p))
	}
	l := th.live(compiler.KindPool, "vms")
	if !th.st.ownsPool(th.uri, l) {
		t.Fatalf("the pool is no longer nixvirt's")
	}
	// Restarted by hand: rewritten again, still nixvirt's, no drift.
	if err := th.host.Stop(context.Background(), compiler.KindPool, l.UUID, 0); err != nil {
		t.Fatal(err)
	}
	if err := (permsFromDirectory{th.host}).Start(compiler.KindPool, l.UUID); err != nil {
		t.Fatal(err)
	}
	if p := th.plan(pool); actions(p) != "" {
		t.Fatalf("plan after a restart by hand: %s", actions(p))
	}
	// The same name and UUID with another directory is another pool.
	other := *l
	other.XML = strings.Replace(l.XML, "/var/lib/nvt", "/srv/elsewhere", 1)
	if th.st.ownsPool(th.uri, &other) {
		t.Fatalf("a pool with another target counts as nixvirt's")
	}
}

// A pool that nixvirt defines but does not start, started later by an
// admin, gets its permissions rewritten then: that is no drift either,
// however often it restarts.
func TestPoolStartedByHandAfterApplyHasNoDrift(t *testing.T) {
	th := newTestHost(t)
	pool := `pools: vms: definition: {type: "dir", target: {path: "/var/lib/nvt", permissions: mode: octal: "0700"}}`
	th.apply(pool)
	l := th.live(compiler.KindPool, "vms")
	if err := (permsFromDirectory{th.host}).Start(compiler.KindPool, l.UUID); err != nil {
		t.Fatal(err)
	}
	if def := th.live(compiler.KindPool, "vms").XML; !strings.Contains(def, "<mode>0755</mode>") {
		t.Fatalf("the permissions were not rewritten, so this shows nothing:\n%s", def)
	}
	if p := th.plan(pool); actions(p) != "" {
		t.Fatalf("plan after the pool was started by hand: %s", actions(p))
	}
}
