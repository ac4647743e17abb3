package apply

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// killedAtDefine stands for an apply killed (SIGKILL) at one point: when the
// define of the object named kill comes, the state directory is copied
// as it is on disk then (all a killed apply leaves), after libvirt has
// the definition or, with before, just before; from then on every change
// to the host fails, so that libvirt keeps what it had at that point.
type killedAtDefine struct {
	Host
	kill     string
	before   bool
	stateDir string
	snapshot string
	// owners and ownersSnapshot: the same for the owners directory.
	owners, ownersSnapshot string
	killed                 *bool
}

var errKilledAtDefine = errors.New("apply was killed here")

func (k killedAtDefine) Close() error { return nil }

func (k killedAtDefine) Unwrap() Host { return k.Host }

func (k killedAtDefine) Define(kind compiler.Kind, xml string) error {
	if *k.killed {
		return errKilledAtDefine
	}
	if !strings.Contains(xml, "<name>"+k.kill+"</name>") && !strings.Contains(xml, "<volume>"+k.kill+"</volume>") {
		return k.Host.Define(kind, xml)
	}
	if !k.before {
		if err := k.Host.Define(kind, xml); err != nil {
			return err
		}
	}
	*k.killed = true
	if err := copyDir(k.owners, k.ownersSnapshot); err != nil {
		return err
	}
	return copyDir(k.stateDir, k.snapshot)
}

func (k killedAtDefine) Undefine(kind compiler.Kind, uuid string, nvram, tpm bool) error {
	if *k.killed {
		return errKilledAtDefine
	}
	return k.Host.Undefine(kind, uuid, nvram, tpm)
}

func (k killedAtDefine) Start(kind compiler.Kind, uuid string) error {
	if *k.killed {
		return errKilledAtDefine
	}
	return k.Host.Start(kind, uuid)
}

func (k killedAtDefine) CreateVolume(pool, xml string) error {
	if *k.killed {
		return errKilledAtDefine
	}
	return k.Host.CreateVolume(pool, xml)
}

func (k killedAtDefine) SetAutostart(kind compiler.Kind, uuid string, on bool) error {
	if *k.killed {
		return errKilledAtDefine
	}
	return k.Host.SetAutostart(kind, uuid, on)
}

// copyDir copies the regular files of one directory into a new one.
func copyDir(from, to string) error {
	if err := os.MkdirAll(to, 0o700); err != nil {
		return err
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// applyKilled applies body to th, killed at the define of kill (see
// killedAtDefine), and makes th's state directory and owners directory
// what was on disk at that point.
func (th *testHost) applyKilled(body, kill string, before bool) {
	th.t.Helper()
	killed := false
	snapshot := filepath.Join(th.t.TempDir(), "state")
	ownersSnapshot := filepath.Join(th.t.TempDir(), "owners")
	conn := func(uri string) (Host, error) {
		h, err := th.connect(uri)
		if err != nil {
			return nil, err
		}
		return killedAtDefine{Host: h, kill: kill, before: before, stateDir: th.st.dir, snapshot: snapshot,
			owners: th.st.owners, ownersSnapshot: ownersSnapshot, killed: &killed}, nil
	}
	Apply(context.Background(), th.wanted(body), conn, Options{Prune: true, State: th.st}, func(Outcome) {})
	if !killed {
		th.t.Fatalf("apply never defined %s", kill)
	}
	for from, to := range map[string]string{snapshot: th.st.dir, ownersSnapshot: th.st.owners} {
		if err := os.RemoveAll(to); err != nil {
			th.t.Fatal(err)
		}
		if err := copyDir(from, to); err != nil {
			th.t.Fatal(err)
		}
	}
	st := OpenState(th.st.dir)
	st.owners, st.ownersNamed = th.st.owners, true
	th.st = st
}

// Records of what libvirt stored are written once per step of an apply,
// not per object: an apply killed after it defined domains but before it
// wrote their records leaves them nixvirt's (their mark says so), and the
// next apply records them, creates the rest, and leaves nothing to do.
func TestKilledBeforeRecordsAreWrittenLosesNoDomain(t *testing.T) {
	th := newTestHost(t)
	body := `domains: {
		vm1: definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
		vm2: definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
		vm3: definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
	}`
	th.applyKilled(body, "vm3", false)
	if n := len(th.definedRecords()); n != 0 {
		t.Fatalf("the killed apply wrote %d records before the end of its step: this shows nothing", n)
	}
	// Pruning would delete what the next apply does not recognise.
	if got := actions(th.plan(body)); strings.Contains(got, "delete") || strings.Contains(got, "vm1:create") || strings.Contains(got, "vm3:create") {
		t.Fatalf("plan after the kill: %s", got)
	}
	th.apply(body)
	if n := len(th.definedRecords()); n != 3 {
		t.Fatalf("records after the next apply: %d, want 3", n)
	}
	if got := actions(th.plan(body)); got != "" {
		t.Fatalf("plan at the end: %s", got)
	}
	if got := strings.Fields(actions(th.plan(`domains: {}`))); len(got) != 3 || !strings.Contains(strings.Join(got, " "), "vm1:delete") || !strings.Contains(strings.Join(got, " "), "vm2:delete") {
		t.Fatalf("pruning after the kill: %s", got)
	}
}

// definedRecords are the records of what libvirt stored, as on disk.
func (th *testHost) definedRecords() map[string]definedRecord {
	th.t.Helper()
	m, err := OpenState(th.st.dir).readDefined(th.uri)
	if err != nil {
		th.t.Fatal(err)
	}
	return m
}

// Pools and secrets carry no mark: nixvirt's record is written before
// libvirt has them, so that an apply killed just before or just after
// their define leaves them nixvirt's: the next apply creates what is
// missing, and pruning deletes them.
func TestKilledAroundDefineLosesNoPoolOrSecret(t *testing.T) {
	const pool = `pools: store: {definition: {type: "dir", target: path: "/var/lib/nvt-store"}, active: true}`
	const secret = `secrets: key: definition: {private: true, usage: {type: "volume", volume: "/var/lib/nvt/key.img"}}`
	for _, tc := range []struct{ body, kill, kind string }{
		{pool, "store", "pool"},
		{secret, "/var/lib/nvt/key.img", "secret"},
	} {
		for _, before := range []bool{true, false} {
			th := newTestHost(t)
			th.secretStore()
			th.applyKilled(tc.body, tc.kill, before)
			want := tc.kind + "/" + strings.SplitN(strings.TrimPrefix(tc.body, tc.kind+"s: "), ":", 2)[0] + ":"
			got := actions(th.plan(tc.body))
			if before && !strings.Contains(got, want+"create") || !before && strings.Contains(got, "create") {
				t.Fatalf("%s, killed before its define=%v: plan %s", tc.kind, before, got)
			}
			th.apply(tc.body)
			if got := actions(th.plan(tc.body)); got != "" {
				t.Fatalf("%s, killed before its define=%v: plan after the next apply: %s", tc.kind, before, got)
			}
			if got := actions(th.plan(tc.kind + "s: {}")); got != want+"delete" && !(tc.kind == "pool" && strings.HasPrefix(got, want+"stop")) {
				t.Fatalf("%s, killed before its define=%v: pruning plans %q", tc.kind, before, got)
			}
			if !before {
				// Killed right after the define: pruning at once, without
				// the apply in between, finds it nixvirt's too.
				th2 := newTestHost(t)
				th2.secretStore()
				th2.applyKilled(tc.body, tc.kill, false)
				// Nor is it another state directory's to take (claims.go).
				if p := planWith(th2, th2.otherStateDir(), "team-b", tc.body); p.Changes[0].Problem == nil || p.Changes[0].Problem.Code != ProblemOtherOwner {
					t.Fatalf("%s killed right after its define: another state directory plans %s", tc.kind, actions(p))
				}
				if got := actions(th2.plan(tc.kind + "s: {}")); !strings.Contains(got, want+"delete") {
					t.Fatalf("%s killed right after its define is nobody's: pruning plans %q", tc.kind, got)
				}
			}
		}
	}
}

// A pool that nixvirt redefines stays nixvirt's when apply is killed
// just before libvirt has the new definition: the next plan redefines it
// as nixvirt's, not as a take-over.
func TestKilledBeforePoolRedefineKeepsItOwned(t *testing.T) {
	th := newTestHost(t)
	th.apply(`pools: store: {definition: {type: "dir", target: path: "/var/lib/nvt-store"}}`)
	changed := `pools: store: {definition: {type: "dir", target: {path: "/var/lib/nvt-store", permissions: mode: octal: "0700"}}}`
	th.applyKilled(changed, "store", true)
	p := th.plan(changed)
	if got := actions(p); got != "pool/store:redefine" || p.Changes[0].Actions[0].Reasons[0].Code != ReasonDefinitionChanged {
		t.Fatalf("plan after the kill: %s %+v", got, p.Changes)
	}
	th.apply(changed)
	if got := actions(th.plan(changed)); got != "" {
		t.Fatalf("plan at the end: %s", got)
	}
}
