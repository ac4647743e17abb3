package apply

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// otherStateDir is a second configuration's state directory on the same
// host (another root configuration with its own $NIXVIRT_STATE_DIR, or a
// Home Manager user's), sharing the host's owners directory.
func (th *testHost) otherStateDir() *State {
	st := OpenState(filepath.Join(th.t.TempDir(), "state"))
	st.owners, st.ownersNamed = th.st.owners, true
	return st
}

func applyWith(th *testHost, st *State, owner, body string, takeOver bool) *Result {
	return Apply(context.Background(), th.wantedOf(owner, body), th.connect, Options{Prune: true, TakeOver: takeOver, State: st}, func(Outcome) {})
}

func planWith(th *testHost, st *State, owner, body string) *Plan {
	return MakePlan(th.wantedOf(owner, body), th.connect, Options{Prune: true, State: st})
}

const claimedPool = `pools: vms: {
		definition: {type: "dir", target: path: "/var/lib/nvt-claims"}
		active: true
		volumes: "a.img": definition: capacity: {count: 1, unit: "MiB"}
	}`

// Two configurations with their own state directories on one host never
// take over or prune each other's pools (and their volumes) or secrets:
// naming one is refused with the other owner, dropping one from either
// leaves it, and only its own configuration deletes it.
func TestStateDirsDoNotTakeOverEachOthersPoolsAndSecrets(t *testing.T) {
	th := newTestHost(t)
	store := th.secretStore()
	t.Setenv("NVT_SECRET", secretValue)
	secret := `secrets: [{name: "ceph-key", definition: {private: true, usage: {type: "ceph", name: "client.nvt"}}, value: env: "NVT_SECRET"}]`
	a, b := th.st, th.otherStateDir()
	if res := applyWith(th, a, "team-a", claimedPool+"\n"+secret, false); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	for _, owner := range []string{"team-b", "team-a"} {
		p := planWith(th, b, owner, claimedPool+"\n"+secret)
		// Under another owner name, that owner; under the same, the
		// state directory that records it.
		code, detail, says := ProblemOtherOwner, "team-a", `owner "team-a"`
		if owner == "team-a" {
			code, detail, says = ProblemOtherStateDir, a.absDir(), "the state directory "+a.absDir()+" records it"
		}
		for _, c := range p.Changes {
			if c.Problem == nil || c.Problem.Code != code || c.Problem.Detail != detail {
				t.Fatalf("owner %s, another state directory's %s %s: %+v %+v", owner, c.Kind, c.Name, c.Problem, c.Actions)
			}
			if text := ProblemText(c); !strings.Contains(text, says) || !strings.Contains(text, "--take-over, which makes it this configuration's: that configuration can then no longer change or delete it") {
				t.Fatalf("problem: %s", text)
			}
		}
		applyWith(th, b, owner, claimedPool+"\n"+secret, false)
		if u := unmanagedOf(planWith(th, b, owner, `pools: []`), "vms"); u == nil || u.Owner != "team-a" {
			t.Fatalf("owner %s: the other state directory's pool is not listed as team-a's: %+v", owner, u)
		}
		applyWith(th, b, owner, `pools: []`+"\n"+`secrets: []`, false)
	}
	if th.live(compiler.KindPool, "vms") == nil || len(store.defs) != 1 {
		t.Fatal("another state directory pruned the pool or the secret")
	}
	if p := planWith(th, a, "team-a", claimedPool+"\n"+secret); p.HasChanges() || p.Problems() > 0 {
		t.Fatalf("the owner's own plan changed: %+v", p.Changes)
	}
	if res := applyWith(th, a, "team-a", `pools: []`+"\n"+`secrets: []`, false); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	if th.live(compiler.KindPool, "vms") != nil || len(store.defs) != 0 {
		t.Fatal("its own configuration did not prune the pool and the secret")
	}
	// Released with them: the other configuration may now define them.
	if res := applyWith(th, b, "team-b", claimedPool, false); len(res.Failed) > 0 || th.live(compiler.KindPool, "vms") == nil {
		t.Fatal("a released pool could not be defined again", res.Failed)
	}
}

// --take-over moves another state directory's pool to this one, which
// then owns it alone: the first configuration leaves it.
func TestTakeOverMovesTheClaim(t *testing.T) {
	th := newTestHost(t)
	a, b := th.st, th.otherStateDir()
	applyWith(th, a, "team-a", claimedPool, false)
	if res := applyWith(th, b, "team-b", claimedPool, true); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	if u := unmanagedOf(planWith(th, a, "team-a", `pools: []`), "vms"); u == nil || u.Owner != "team-b" {
		t.Fatalf("taken over, not listed as team-b's: %+v", u)
	}
	applyWith(th, a, "team-a", `pools: []`, false)
	if th.live(compiler.KindPool, "vms") == nil {
		t.Fatal("the first configuration pruned the pool taken from it")
	}
}

// A state directory written before claims existed claims its records on
// its next plan; one removed (or a record forgotten) leaves no claim that
// blocks anyone.
func TestClaimsOfOldAndRemovedStateDirs(t *testing.T) {
	th := newTestHost(t)
	a, b := th.st, th.otherStateDir()
	applyWith(th, a, "team-a", claimedPool, false)
	// As before claims: the owners directory is empty.
	if err := os.RemoveAll(a.owners); err != nil {
		t.Fatal(err)
	}
	a = OpenState(a.dir)
	a.owners, a.ownersNamed = b.owners, true
	planWith(th, a, "team-a", claimedPool)
	if p := planWith(th, b, "team-b", claimedPool); p.Changes[0].Problem == nil || p.Changes[0].Problem.Code != ProblemOtherOwner {
		t.Fatalf("an old state directory's pool: %+v", p.Changes[0])
	}
	if err := os.RemoveAll(a.dir); err != nil {
		t.Fatal(err)
	}
	b = OpenState(b.dir)
	b.owners, b.ownersNamed = a.owners, true
	if p := planWith(th, b, "team-b", claimedPool); p.Changes[0].Problem != nil {
		t.Fatalf("a removed state directory's claim still holds: %+v", p.Changes[0].Problem)
	}
}

// A claim stands for what its state directory owns by its own rules: a
// pool redefined outside nixvirt since is no longer its configuration's
// (that configuration would neither redefine nor prune it), so another
// configuration that names it takes it over as nobody's.
func TestClaimOfPoolChangedOutsideHoldsNothing(t *testing.T) {
	th := newTestHost(t)
	a, b := th.st, th.otherStateDir()
	inactive := `pools: vms: definition: {type: "dir", target: path: "/var/lib/nvt-claims"}`
	applyWith(th, a, "team-a", inactive, false)
	l := th.live(compiler.KindPool, "vms")
	changed := strings.Replace(l.XML, "/var/lib/nvt-claims", "/var/lib/nvt-claims-moved", 1)
	if err := th.host.Define(compiler.KindPool, changed); err != nil {
		t.Fatal(err)
	}
	if u := unmanagedOf(planWith(th, a, "team-a", `pools: []`), "vms"); u == nil || u.Owner != "" {
		t.Fatalf("changed outside nixvirt, the pool is still its owner's: %+v", u)
	}
	moved := strings.Replace(inactive, "/var/lib/nvt-claims", "/var/lib/nvt-claims-moved", 1)
	if p := planWith(th, b, "team-b", moved); p.Changes[0].Problem != nil {
		t.Fatalf("the other state directory's record still holds the pool: %+v", p.Changes[0].Problem)
	}
}

// An owners directory that another user (not root) owns, or that others
// can write in, is refused: its claims decide what nixvirt leaves alone.
func TestUntrustedOwnersDirIsRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the directory away")
	}
	for _, tc := range []struct {
		prepare func(dir string) error
		want    string
	}{
		{func(dir string) error { return os.Chown(dir, 65534, 65534) }, "belongs to user 65534"},
		{func(dir string) error { return os.Chmod(dir, 0o777) }, "writable by other users"},
	} {
		th := newTestHost(t)
		if err := os.MkdirAll(th.st.owners, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := tc.prepare(th.st.owners); err != nil {
			t.Fatal(err)
		}
		p := th.plan(claimedPool)
		if len(p.Errors) == 0 || !strings.Contains(p.Errors[0], tc.want) {
			t.Fatalf("plan with an untrusted owners directory: %v", p.Errors)
		}
	}
}

// A claims file is trusted as its directory is: one that another user
// (not root) owns, or that others can write, is refused, naming the file;
// plan and apply stop before libvirt is touched.
func TestUntrustedClaimsFileIsRefused(t *testing.T) {
	for _, tc := range []struct {
		prepare func(file string) error
		want    string
		root    bool
	}{
		{func(file string) error { return os.Chmod(file, 0o666) }, "is writable by other users (mode 0666)", false},
		{func(file string) error { return os.Chmod(file, 0o620) }, "is writable by other users (mode 0620)", false},
		{func(file string) error { return os.Chown(file, 65534, 65534) }, "belongs to user 65534", true},
	} {
		if tc.root && os.Geteuid() != 0 {
			t.Log("skipped without root (giving the file away): ", tc.want)
			continue
		}
		th := newTestHost(t)
		a := th.otherStateDir()
		if res := applyWith(th, a, "team-a", claimedPool, false); len(res.Failed) > 0 {
			t.Fatal(res.Failed)
		}
		file := filepath.Join(th.st.owners, compiler.ConnectionFileName(th.uri)+".json")
		if err := tc.prepare(file); err != nil {
			t.Fatal(err)
		}
		for what, errs := range map[string][]string{
			"plan":  th.plan(claimedPool).Errors,
			"apply": applyWith(th, th.st, "team-b", claimedPool, true).Plan.Errors,
		} {
			if len(errs) != 1 || !strings.Contains(errs[0], "claims file "+file+" "+tc.want) {
				t.Errorf("%s with an untrusted claims file: %q", what, errs)
			}
		}
		if l := th.live(compiler.KindPool, "vms"); l == nil {
			t.Fatal("the pool went")
		}
		if u := unmanagedOf(planWith(th, a, "team-a", `pools: []`), "vms"); u != nil {
			t.Fatalf("the take-over went ahead: %+v", u)
		}
	}
}

// A claims file that holds no JSON object (null, which decodes as no
// claims at all, an array, a number) is corrupt, never "no claims": that
// would make every pool and secret of the other configurations nobody's.
func TestClaimsFileNotAnObjectIsCorrupt(t *testing.T) {
	for _, content := range []string{"null\n", "[]", " 42", `"claims"`, ""} {
		th := newTestHost(t)
		a := th.otherStateDir()
		if res := applyWith(th, a, "team-a", claimedPool, false); len(res.Failed) > 0 {
			t.Fatal(res.Failed)
		}
		file := filepath.Join(th.st.owners, compiler.ConnectionFileName(th.uri)+".json")
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		p := planWith(th, th.st, "team-b", claimedPool)
		if len(p.Errors) != 1 || !strings.Contains(p.Errors[0], "nixvirt's claims file "+file+" is corrupt (it holds ") ||
			!strings.Contains(p.Errors[0], "restore it from a backup") {
			t.Errorf("claims file %q: errors %q, changes %s", content, p.Errors, actions(p))
		}
	}
}

// Which owners directories a state directory reads and writes: its own
// first (the one it writes), then root's, which a user reads too; only
// the one named for the test driver, whose objects live in one process.
func TestOwnersDirsOfAConnection(t *testing.T) {
	t.Setenv("NIXVIRT_OWNERS_DIR", "")
	if os.Geteuid() == 0 && OwnersDir() != systemOwnersDir {
		t.Fatalf("root's owners directory: %s", OwnersDir())
	}
	user := &State{owners: "/home/u/.local/state/nixvirt/owners"}
	root := &State{owners: systemOwnersDir}
	named := &State{owners: "/srv/owners", ownersNamed: true}
	for _, tc := range []struct {
		st   *State
		uri  string
		want string
	}{
		{user, "qemu:///system", "/home/u/.local/state/nixvirt/owners " + systemOwnersDir},
		{root, "qemu:///system", systemOwnersDir},
		{named, "qemu:///system", "/srv/owners"},
		{user, "test:///default", ""},
		{named, "test:///default", "/srv/owners"},
	} {
		if got := strings.Join(tc.st.claimsFor(tc.uri), " "); got != tc.want {
			t.Errorf("%s on %s: %q, want %q", tc.st.owners, tc.uri, got, tc.want)
		}
	}
}

// A pool whose name another pool has, under another UUID, is refused
// with whose that pool is: another state directory's (its owner and the
// directory that claims it), this configuration's own, or nobody's; the
// advice says what --take-over does to the configuration that has it.
// Nothing changes, and this configuration's pool in the way is not pruned.
func TestNameTakenSaysWhoseItIs(t *testing.T) {
	const newUUID = "0a0b0c0d-1111-4222-8333-444455556666"
	renamed := strings.Replace(claimedPool, `definition: {type: "dir"`, `definition: {uuid: "`+newUUID+`", type: "dir"`, 1)
	th := newTestHost(t)
	a, b := th.st, th.otherStateDir()
	if res := applyWith(th, a, "team-a", claimedPool, false); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	uuid := canonicalUUID(th.live(compiler.KindPool, "vms").UUID)
	for _, tc := range []struct {
		st     *State
		owner  string
		holder Holder
		says   []string
	}{
		{b, "team-b", Holder{Owner: "team-a", StateDir: a.absDir()}, []string{
			`a pool named "vms" exists with UUID ` + uuid + `, and it belongs to owner "team-a", another configuration (its state directory ` + a.absDir() + ` claims it)`,
			`give this pool another name, or, to take the pool from that configuration, give the definition uuid: "` + uuid + `" and apply with --take-over, which makes it this configuration's: that configuration can then no longer change or delete it`}},
		{b, "team-a", Holder{Owner: "team-a", StateDir: a.absDir()}, []string{`belongs to owner "team-a", another configuration (its state directory ` + a.absDir()}},
		{a, "team-a", Holder{Owner: "team-a", Own: true}, []string{`, and it is this configuration's; nixvirt identifies objects by UUID: give the definition uuid: "` + uuid + `" to keep it`}},
	} {
		p := planWith(th, tc.st, tc.owner, renamed)
		if len(p.Changes) != 1 || p.Changes[0].Problem == nil || p.Changes[0].Problem.Code != ProblemNameTaken {
			t.Fatalf("%s: %s", tc.owner, actions(p))
		}
		if h := p.Changes[0].Problem.Holder; h == nil || *h != tc.holder {
			t.Errorf("%s: holder %+v, want %+v", tc.owner, h, tc.holder)
		}
		text := ProblemText(p.Changes[0])
		for _, s := range tc.says {
			if !strings.Contains(text, s) {
				t.Errorf("%s: the problem does not say %q:\n%s", tc.owner, s, text)
			}
		}
		for _, takeOver := range []bool{false, true} {
			if res := applyWith(th, tc.st, tc.owner, renamed, takeOver); len(res.Failed) != 1 || res.Failed[0].Problem == nil {
				t.Fatalf("%s: apply: %+v", tc.owner, res.Failed)
			}
			if l := th.live(compiler.KindPool, "vms"); l == nil || canonicalUUID(l.UUID) != uuid {
				t.Fatalf("%s: the pool in the way changed: %+v", tc.owner, l)
			}
		}
	}
	// A domain of another owner, marked as such.
	dom := `domains: web: definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}`
	if res := applyWith(th, a, "team-a", dom, false); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	other := strings.Replace(dom, `type: "test"`, `type: "test", uuid: "`+newUUID+`"`, 1)
	p := planWith(th, a, "team-b", other)
	if h := p.Changes[0].Problem.Holder; h == nil || *h != (Holder{Owner: "team-a"}) {
		t.Errorf("another owner's domain: holder %+v", h)
	}
	if text := ProblemText(p.Changes[0]); !strings.Contains(text, `it belongs to owner "team-a", another configuration; nixvirt never changes another configuration's objects: give this domain another name`) {
		t.Errorf("another owner's domain: %s", text)
	}
}
