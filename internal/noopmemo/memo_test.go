package noopmemo

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestEnviron(t *testing.T) {
	got := Environ([]string{"PATH=/bin", "NIXVIRT_STATE_DIR=/s", "NIXVIRT_HANDED_OVER=nixvirt-libvirt", TraceVar + "=1",
		"XDG_SESSION_ID=4", "XDG_STATE_HOME=/x", "LIBVIRT_DEFAULT_URI=qemu:///system", "SHLVL=2", "LC_ALL=C", "HOME=/root"}, "NIXVIRT_HANDED_OVER")
	want := []string{"HOME=/root", "LC_ALL=C", "LIBVIRT_DEFAULT_URI=qemu:///system", "NIXVIRT_STATE_DIR=/s", "PATH=/bin", "XDG_STATE_HOME=/x"}
	if !slices.Equal(got, want) {
		t.Errorf("Environ = %q, want %q", got, want)
	}
}

func TestWriteRead(t *testing.T) {
	dir := t.TempDir()
	m := &Memo{Args: []string{"apply", "--yes", "s.json"}, Dir: "/w", Stdout: "Apply complete\n",
		Hosts: []Host{{URI: "qemu:///system", Calls: []Call{{Method: MethodList, Kind: "domain", Sum: "x"}}}}}
	if err := Write(dir, m); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir, m.Args, m.Dir)
	if err != nil || got.Stdout != m.Stdout || got.Hosts[0].Calls[0] != m.Hosts[0].Calls[0] {
		t.Fatalf("Read = %+v, %v", got, err)
	}
	for _, other := range [][]string{{"apply", "--yes"}, {"plan", "--yes", "s.json"}, {"apply", "--yes s.json"}} {
		if _, err := Read(dir, other, m.Dir); err == nil {
			t.Errorf("the memo of %q was read for %q", m.Args, other)
		}
	}
	if _, err := Read(dir, m.Args, "/elsewhere"); err == nil {
		t.Error("the memo was read in another working directory")
	}
	// A link where the memo belongs is not followed.
	name := File(dir, m.Args, m.Dir)
	if err := os.Rename(name, name+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(name+".real", name); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(dir, m.Args, m.Dir); err == nil {
		t.Error("a memo was read through a symbolic link")
	}
	// Another format is not read.
	if err := os.WriteFile(name+".real", []byte(`{"format": 0}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(name)
	_ = os.Rename(name+".real", name)
	if _, err := Read(dir, m.Args, m.Dir); err == nil {
		t.Error("a memo of another format was read")
	}
	Remove(dir, m.Args, m.Dir)
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("Remove left %s", name)
	}
}

func TestMatches(t *testing.T) {
	build := Build{Path: "/bin/nixvirt-libvirt", Size: 1, Mtime: 2}
	m := Memo{Format: Format, Build: build, Args: []string{"apply"}, Dir: "/w", Env: []string{"PATH=/bin"}, Euid: 0}
	if !m.Matches([]string{"apply"}, "/w", []string{"PATH=/bin"}, 0, [3]bool{}, build) {
		t.Fatal("a memo does not match its own command line")
	}
	for name, ok := range map[string]bool{
		"args":     m.Matches([]string{"plan"}, "/w", []string{"PATH=/bin"}, 0, [3]bool{}, build),
		"dir":      m.Matches([]string{"apply"}, "/v", []string{"PATH=/bin"}, 0, [3]bool{}, build),
		"env":      m.Matches([]string{"apply"}, "/w", []string{"PATH=/usr/bin"}, 0, [3]bool{}, build),
		"euid":     m.Matches([]string{"apply"}, "/w", []string{"PATH=/bin"}, 1000, [3]bool{}, build),
		"terminal": m.Matches([]string{"apply"}, "/w", []string{"PATH=/bin"}, 0, [3]bool{false, true, false}, build),
		"build":    m.Matches([]string{"apply"}, "/w", []string{"PATH=/bin"}, 0, [3]bool{}, Build{Path: build.Path, Size: 1, Mtime: 3}),
	} {
		if ok {
			t.Errorf("a memo matches another %s", name)
		}
	}
}

func TestUnchanged(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.xml")
	if err := os.WriteFile(file, []byte("<domain/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{file: FileHash(file)}
	dirs := map[string]string{dir: DirHash(dir)}
	if !Unchanged(files, nil, dirs) {
		t.Fatal("unchanged files are said to have changed")
	}
	if err := os.WriteFile(filepath.Join(dir, "b.cue"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if Unchanged(nil, nil, dirs) {
		t.Error("a .cue file added to a package directory went unseen")
	}
	if err := os.WriteFile(file, []byte("<domain></domain>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if Unchanged(files, nil, nil) {
		t.Error("a changed file went unseen")
	}
	// A stat as recorded stands for the bytes: the file is not read.
	st, ok := StatOf(file)
	if !ok {
		t.Skip("no change times here")
	}
	if !Unchanged(map[string]string{file: "not its hash"}, map[string]FileStat{file: st}, nil) {
		t.Error("a file whose stat is as recorded was read again")
	}
	st.Ctime++
	if Unchanged(map[string]string{file: "not its hash"}, map[string]FileStat{file: st}, nil) {
		t.Error("a file whose stat changed was not read again")
	}
	if Unchanged(map[string]string{filepath.Join(dir, "gone.xml"): files[file]}, nil, nil) {
		t.Error("a missing file is unchanged")
	}
}

// TestFileHashOfPipe: a pipe is no input a memo or record can stand for
// (other bytes at every read), and a named pipe no one writes to is not
// waited for.
func TestFileHashOfPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "settings.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	done := make(chan string)
	go func() { done <- FileHash(fifo) }()
	select {
	case sum := <-done:
		if sum != "" {
			t.Errorf("a named pipe has a hash: %s", sum)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("FileHash waits on a named pipe")
	}
	if Unchanged(map[string]string{fifo: ""}, nil, nil) {
		t.Error("a pipe is unchanged")
	}
}

func TestStateDigest(t *testing.T) {
	root := t.TempDir()
	state, owners, other := filepath.Join(root, "state"), filepath.Join(root, "owners"), filepath.Join(root, "other")
	for _, d := range []string{state, owners, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	uris := []string{"qemu:///system"}
	write(filepath.Join(state, "qemu____system.json"), `{"pools": {}}`)
	write(filepath.Join(owners, "qemu____system.json"), `{"claims": {"pool/1": {"stateDir": "`+other+`", "owner": "o"}}}`)
	digest := func() string { return StateDigest(state, []string{owners}, uris) }
	was := digest()
	for _, tc := range []struct {
		what   string
		change func()
		seen   bool
	}{
		{"the lock", func() { write(filepath.Join(state, "qemu____system.lock"), "") }, false},
		{"a compile record", func() { write(filepath.Join(state, "compiled-1.json"), "{}") }, false},
		{"another connection's record", func() { write(filepath.Join(state, "test____default.json"), "{}") }, false},
		{"the definitions recorded", func() { write(filepath.Join(state, "qemu____system.defined.json"), "{}") }, true},
		{"the records", func() { write(filepath.Join(state, "qemu____system.json"), `{"pools": {"1": {}}}`) }, true},
		{"a journal", func() { write(filepath.Join(state, "qemu____system.journal.json"), "{}") }, true},
		{"the records of a state directory that claims", func() { write(filepath.Join(other, "qemu____system.json"), "{}") }, true},
		{"the claims", func() {
			write(filepath.Join(owners, "qemu____system.json"), `{"claims": {"pool/1": {"stateDir": "`+other+`", "owner": "p"}}}`)
		}, true},
		{"the mode of the state directory", func() { _ = os.Chmod(state, 0o755) }, true},
		{"the owner of the claims", func() {
			if os.Geteuid() == 0 {
				_ = os.Chown(filepath.Join(owners, "qemu____system.json"), 65534, -1)
			} else {
				_ = os.Chmod(filepath.Join(owners, "qemu____system.json"), 0o640) // a user cannot give a file away
			}
		}, true},
		{"the owners directory moved behind a link", func() {
			_ = os.Rename(owners, owners+"-real")
			_ = os.Symlink(owners+"-real", owners)
		}, true},
		{"the mode of where the link leads", func() { _ = os.Chmod(owners+"-real", 0o777) }, true},
	} {
		tc.change()
		now := digest()
		if (now != was) != tc.seen {
			t.Errorf("a change of %s: digest changed %v, want %v", tc.what, now != was, tc.seen)
		}
		was = now
	}
}

// reader answers from maps, as a host would.
type reader struct {
	lists   map[string][]Object
	running map[string]string
	fail    bool
}

func (r reader) List(kind string) ([]Object, error) {
	if r.fail {
		return nil, errors.New("connection lost")
	}
	return r.lists[kind], nil
}
func (r reader) Running(kind, uuid string) (string, error) { return r.running[uuid], nil }
func (r reader) Definition(kind, uuid string) (string, error) {
	return "<" + kind + ">" + uuid, nil
}
func (r reader) Volumes(pool string) ([]Volume, error)    { return []Volume{{Name: pool + ".img"}}, nil }
func (r reader) HasManagedSave(uuid string) (bool, error) { return uuid == "saved", nil }
func (r reader) Resumed(uuid string) (bool, error)        { return uuid == "restored", nil }
func (r reader) HostCPUs() (string, error)                { return "0-3", nil }

func TestSame(t *testing.T) {
	doms := []Object{{UUID: "u1", Name: "web", XML: "<domain/>", Active: true}}
	r := reader{lists: map[string][]Object{"domain": doms}, running: map[string]string{"u1": "<domain id='1'/>"}}
	calls := []Call{
		{Method: MethodList, Kind: "domain", Sum: SumObjects(doms)},
		{Method: MethodList, Kind: "network", Sum: SumObjects(nil)},
		{Method: MethodRunning, Kind: "domain", Arg: "u1", Sum: SumString("<domain id='1'/>")},
		{Method: MethodDefinition, Kind: "pool", Arg: "p1", Sum: SumString("<pool>p1")},
		{Method: MethodVolumes, Arg: "vms", Sum: SumVolumes([]Volume{{Name: "vms.img"}})},
		{Method: MethodHasManagedSave, Arg: "saved", Sum: SumBool(true)},
		{Method: MethodResumed, Arg: "u1", Sum: SumBool(false)},
		{Method: MethodHostCPUs, Sum: SumString("0-3")},
	}
	if !Same(r, calls) {
		t.Fatal("a host answering as recorded is not the same")
	}
	for i, c := range calls {
		changed := slices.Clone(calls)
		changed[i].Sum = SumString("something else")
		if Same(r, changed) {
			t.Errorf("a different answer to %s went unseen", c.Method)
		}
	}
	if Same(r, []Call{{Method: "Capabilities", Sum: SumString("")}}) {
		t.Error("a read this package does not know was taken as the same")
	}
	if Same(reader{fail: true}, calls[:2]) {
		t.Error("a failed read was taken as the same")
	}
	// Each field of a listed object counts.
	for _, o := range []Object{{UUID: "u2", Name: "web", XML: "<domain/>", Active: true}, {UUID: "u1", Name: "db", XML: "<domain/>", Active: true},
		{UUID: "u1", Name: "web", XML: "<domain></domain>", Active: true}, {UUID: "u1", Name: "web", XML: "<domain/>"},
		{UUID: "u1", Name: "web", XML: "<domain/>", Active: true, Autostart: true}} {
		if SumObjects([]Object{o}) == SumObjects(doms) {
			t.Errorf("%+v has the digest of %+v", o, doms[0])
		}
	}
}

func TestTrusted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	if Trusted(dir) {
		t.Error("a missing state directory is trusted")
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if !Trusted(dir) {
		t.Error("this user's own state directory is not trusted")
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if Trusted(dir) {
		t.Error("a state directory anyone can write in is trusted")
	}
	link := dir + "-link"
	_ = os.Chmod(dir, 0o700)
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if !Trusted(link) {
		t.Error("a symbolic link to this user's state directory is not trusted, as apply trusts it")
	}
	_ = os.Chmod(dir, 0o777)
	if Trusted(link) {
		t.Error("a symbolic link to a state directory anyone can write in is trusted")
	}
}

// TestLockConnection: the memo is checked only once an apply holding the
// connection's lock has ended.
func TestLockConnection(t *testing.T) {
	dir, owners := t.TempDir(), t.TempDir()
	if _, ok := LockConnection(dir, owners, "qemu:///system"); ok {
		t.Fatal("a lock was taken where no apply ever ran")
	}
	if err := os.WriteFile(filepath.Join(owners, "qemu____system.lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "qemu____system.lock")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	taken := make(chan func())
	go func() {
		unlock, _ := LockConnection(dir, owners, "qemu:///system")
		taken <- unlock
	}()
	select {
	case <-taken:
		t.Fatal("the lock was taken while an apply held it")
	case <-time.After(100 * time.Millisecond):
	}
	// Then another state directory's apply holds the owners' lock.
	o, err := os.Open(filepath.Join(owners, "qemu____system.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := syscall.Flock(int(o.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	select {
	case <-taken:
		t.Fatal("the lock was taken while another state directory's apply held the owners' lock")
	case <-time.After(100 * time.Millisecond):
	}
	_ = syscall.Flock(int(o.Fd()), syscall.LOCK_UN)
	select {
	case unlock := <-taken:
		unlock()
	case <-time.After(10 * time.Second):
		t.Fatal("the lock was not taken after the apply ended")
	}
}
