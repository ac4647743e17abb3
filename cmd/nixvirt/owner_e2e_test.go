package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/compiler"
)

// ownerE2E is one end-to-end test of ownership on a real libvirtd: its
// working directory, its state directory, and names that no other test
// uses ("nvxown" and the process id).
type ownerE2E struct {
	t   *testing.T
	uri string
	dir string
	id  string
	// shutdownTimeout is the connection's in the configurations.
	shutdownTimeout int
}

func newOwnerE2E(t *testing.T, tag string) *ownerE2E {
	uri := e2eURI(t)
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	return &ownerE2E{t: t, uri: uri, dir: dir, id: fmt.Sprintf("nvxown%s%d", tag, os.Getpid()%100000), shutdownTimeout: 2}
}

// name is a libvirt object name of this test.
func (e *ownerE2E) name(s string) string { return e.id + "-" + s }

// owner is an owner name of this test, so that its pruning applies
// touch nothing else on the host.
func (e *ownerE2E) owner(s string) string { return e.id + "-" + s }

// removeDomains deletes the test's domains when it ends, managed save
// images included.
func (e *ownerE2E) removeDomains(names ...string) {
	e.t.Cleanup(func() {
		for _, n := range names {
			exec.Command("virsh", "-c", e.uri, "destroy", n).Run()
			exec.Command("virsh", "-c", e.uri, "managedsave-remove", n).Run()
			exec.Command("virsh", "-c", e.uri, "undefine", "--nvram", n).Run()
		}
	})
}

// domain is a domain entry: a guest without an operating system (it
// ignores ACPI, so every shutdown takes the whole timeout), running.
func domainEntry(name, extra string) string {
	return fmt.Sprintf(`%q: {definition: {type: "qemu", memory: {count: 32, unit: "MiB"}, os: type: "hvm"%s}, active: true}`, name, extra)
}

// config writes a configuration of the test's connection, domains only,
// and returns its file name.
func (e *ownerE2E) config(file, body string) string {
	e.t.Helper()
	src := fmt.Sprintf("connections: %q: {\n\tshutdownTimeout: %d\n\t%s\n}\n", e.uri, e.shutdownTimeout, body)
	if err := os.WriteFile(filepath.Join(e.dir, file), []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return file
}

func (e *ownerE2E) nixvirt(args ...string) (string, error) {
	e.t.Helper()
	return run(e.t, e.dir, args...)
}

func (e *ownerE2E) mustNixvirt(args ...string) string {
	e.t.Helper()
	out, err := e.nixvirt(args...)
	if err != nil {
		e.t.Fatalf("nixvirt %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// snapshot is what virsh says of a domain: its state and persistent
// definition.
func (e *ownerE2E) snapshot(name string) string {
	return virsh(e.t, e.uri, "domstate", name) + "\n" + virsh(e.t, e.uri, "dumpxml", "--inactive", name)
}

var uuidLine = regexp.MustCompile(`\s*<uuid>[^<]*</uuid>`)

// TestE2EOwners: two configurations with their own owners on one host
// leave each other's domains alone (B's pruning apply neither stops nor
// deletes A's running domain, and its plan lists it with its owner); a
// copy made with virsh dumpxml/define is nobody's and is never pruned; a
// mark written before owners existed is the default owner's; and
// --take-over moves a domain between owners.
func TestE2EOwners(t *testing.T) {
	e := newOwnerE2E(t, "o")
	a, b, cp := e.name("a"), e.name("b"), e.name("copy")
	e.removeDomains(a, b, cp)
	ownerA, ownerB := e.owner("a"), e.owner("b")

	cfgA := e.config("a.cue", "domains: {"+domainEntry(a, "")+"}")
	e.mustNixvirt("apply", "--owner", ownerA, cfgA)
	before := e.snapshot(a)
	if !strings.HasPrefix(before, "running") || !strings.Contains(before, `owner="`+ownerA+`"`) {
		t.Fatalf("A's domain:\n%s", before)
	}

	// B prunes: its plan lists A's domain with its owner, and its apply
	// leaves it running, as it was.
	cfgB := e.config("b.cue", "domains: {"+domainEntry(b, "")+"}")
	out := e.mustNixvirt("plan", "--owner", ownerB, cfgB)
	if !strings.Contains(out, fmt.Sprintf("· domain %q on %s belongs to owner %q and is left alone", a, e.uri, ownerA)) {
		t.Fatalf("B's plan does not list A's domain with its owner:\n%s", out)
	}
	if out := e.mustNixvirt("plan", "--owner", ownerB, "--output", "json", cfgB); !strings.Contains(out, `"owner": "`+ownerA+`"`) {
		t.Fatalf("B's JSON plan:\n%s", out)
	}
	e.mustNixvirt("apply", "--owner", ownerB, cfgB)
	if after := e.snapshot(a); after != before {
		t.Fatalf("B's apply changed A's domain:\nbefore %s\nafter %s", before, after)
	}

	// A copy of A's domain, as virsh users make one, keeps the mark but
	// is nobody's: A's pruning apply keeps it.
	copyXML := strings.Replace(virsh(t, e.uri, "dumpxml", "--inactive", a), "<name>"+a+"</name>", "<name>"+cp+"</name>", 1)
	copyXML = uuidLine.ReplaceAllString(copyXML, "")
	copyFile := filepath.Join(e.dir, "copy.xml")
	os.WriteFile(copyFile, []byte(copyXML), 0o644)
	virsh(t, e.uri, "define", copyFile)
	out = e.mustNixvirt("apply", "--owner", ownerA, cfgA)
	if !strings.Contains(virsh(t, e.uri, "list", "--all", "--name"), cp) {
		t.Fatalf("A's apply deleted the copy:\n%s", out)
	}
	if out := e.mustNixvirt("plan", "--owner", ownerA, cfgA); !strings.Contains(out, fmt.Sprintf("· domain %q on %s is a copy of domain", cp, e.uri)) {
		t.Fatalf("plan does not list the copy:\n%s", out)
	}

	// B names A's domain: refused without --take-over, moved with it.
	both := e.config("both.cue", "domains: {"+domainEntry(b, "")+"\n"+domainEntry(a, "")+"}")
	if out, err := e.nixvirt("apply", "--owner", ownerB, both); err == nil || !strings.Contains(out, fmt.Sprintf("belongs to owner %q", ownerA)) {
		t.Fatalf("B changed A's domain without --take-over: %v\n%s", err, out)
	}
	if after := e.snapshot(a); after != before {
		t.Fatalf("a refused apply changed A's domain")
	}
	out = e.mustNixvirt("plan", "--owner", ownerB, "--take-over", both)
	if !strings.Contains(out, fmt.Sprintf("--take-over: it moves from owner %q", ownerA)) || strings.Contains(out, "restart") {
		t.Fatalf("take-over plan:\n%s", out)
	}
	e.mustNixvirt("apply", "--owner", ownerB, "--take-over", both)
	if x := virsh(t, e.uri, "dumpxml", "--inactive", a); !strings.Contains(x, `owner="`+ownerB+`"`) {
		t.Fatalf("A's domain was not moved to B:\n%s", x)
	}
	if s := virsh(t, e.uri, "domstate", a); s != "running" {
		t.Fatalf("an identical take-over stopped the domain: %s", s)
	}
}

// TestE2ELegacyMarkIsDefaultOwners: a domain marked by nixvirt before
// marks named an owner is the default owner's: a configuration without an
// owner plans no change for it, and another owner's pruning apply keeps
// it. (The default owner's applies here never prune: other objects of the
// default owner may be on this host.)
func TestE2ELegacyMarkIsDefaultOwners(t *testing.T) {
	e := newOwnerE2E(t, "l")
	legacy := e.name("legacy")
	e.removeDomains(legacy)
	cfg := e.config("legacy.cue", "domains: {"+domainEntry(legacy, "")+"}")
	e.mustNixvirt("apply", "--no-prune", cfg)
	// Rewrite the mark as the previous nixvirt wrote it: no owner, no uuid.
	x := virsh(t, e.uri, "dumpxml", "--inactive", legacy)
	old := regexp.MustCompile(` owner="default" uuid="[^"]*"`).ReplaceAllString(x, "")
	if old == x {
		t.Fatalf("no owner and uuid in the mark:\n%s", x)
	}
	f := filepath.Join(e.dir, "legacy.xml")
	os.WriteFile(f, []byte(old), 0o644)
	virsh(t, e.uri, "define", f)
	before := e.snapshot(legacy)
	if out, err := e.nixvirt("plan", "--no-prune", "--detailed-exitcode", cfg); err != nil {
		t.Fatalf("the default owner does not see its legacy domain as its own: %v\n%s", err, out)
	}
	other := e.config("other.cue", "domains: {}")
	out := e.mustNixvirt("apply", "--owner", e.owner("other"), other)
	if !strings.Contains(out, "Apply complete: 0 added, 0 changed, 0 destroyed") {
		t.Fatalf("another owner's apply:\n%s", out)
	}
	if after := e.snapshot(legacy); after != before {
		t.Fatalf("another owner's apply changed the legacy domain")
	}
}

// TestE2EPruneGraceful: a running domain that leaves the configuration is
// asked to shut down and given its entry's shutdownTimeout, the
// connection's when it was applied (5 s; the guest has no OS and ignores
// the request), before it is forced off;
// present: false gives the entry's shutdownTimeout (3 s). The stops are
// timed on the libvirt connection itself, so that the time the rest of
// apply takes on a busy machine does not count.
func TestE2EPruneGraceful(t *testing.T) {
	e := newOwnerE2E(t, "p")
	e.shutdownTimeout = 5
	pruned, absent := e.name("pruned"), e.name("absent")
	e.removeDomains(pruned, absent)
	owner := e.owner("p")
	e.mustNixvirt("apply", "--owner", owner, e.config("on.cue", "domains: {"+domainEntry(pruned, "")+"\n"+domainEntry(absent, "")+"}"))
	uuids := map[string]string{virsh(t, e.uri, "domuuid", pruned): pruned, virsh(t, e.uri, "domuuid", absent): absent}

	gone := e.config("gone.cue", fmt.Sprintf("domains: %q: {present: false, shutdownTimeout: 3}", absent))
	out := e.mustNixvirt("plan", "--owner", owner, gone)
	if !strings.Contains(out, fmt.Sprintf("domain %q will be deleted", pruned)) || !strings.Contains(out, fmt.Sprintf("domain %q will be deleted", absent)) {
		t.Fatalf("plan:\n%s", out)
	}
	var wanted *apply.Desired
	err := compiler.Run(func(s *compiler.Schema) error {
		v, err := s.Load(compiler.Input{Dir: e.dir, Args: []string{gone}}, "")
		if err != nil {
			return err
		}
		u, err := s.CheckConfig(v)
		if err != nil {
			return err
		}
		cfg, err := s.Config(u, e.dir)
		if err != nil {
			return err
		}
		cfg.Owner = owner
		wanted, err = apply.Build(s, cfg)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	stops := map[string]time.Duration{}
	connect := func(uri string) (apply.Host, error) {
		h, err := apply.Connect(uri)
		return timedStops{Host: h, took: stops}, err
	}
	res := apply.Apply(context.Background(), wanted, connect, apply.Options{Prune: true, State: apply.OpenState(apply.StateDir())}, func(apply.Outcome) {})
	if len(res.Failed) > 0 || res.Destroyed != 2 {
		t.Fatalf("apply: %+v", res)
	}
	for uuid, name := range uuids {
		want := 5 * time.Second
		if name == absent {
			want = 3 * time.Second
		}
		if took, ok := stops[uuid]; !ok || took < want {
			t.Errorf("%s was forced off after %v, without its shutdown timeout (%v)", name, took, want)
		}
	}
	all := virsh(t, e.uri, "list", "--all", "--name")
	if strings.Contains(all, pruned) || strings.Contains(all, absent) {
		t.Fatalf("not deleted:\n%s", all)
	}
}

// timedStops times each domain's Stop.
type timedStops struct {
	apply.Host
	took map[string]time.Duration
}

func (h timedStops) Stop(ctx context.Context, k compiler.Kind, uuid string, timeout time.Duration) error {
	start := time.Now()
	err := h.Host.Stop(ctx, k, uuid, timeout)
	h.took[uuid] = time.Since(start)
	return err
}

// TestE2EManagedSaveKept: a domain with a managed save image (virsh
// managedsave) is neither deleted nor renamed, which would delete its
// saved memory: plan says why and what to do, apply fails for it and
// leaves the image.
func TestE2EManagedSaveKept(t *testing.T) {
	e := newOwnerE2E(t, "m")
	saved, renamed := e.name("saved"), e.name("renamed")
	e.removeDomains(saved, renamed)
	owner := e.owner("m")
	e.mustNixvirt("apply", "--owner", owner, e.config("on.cue", "domains: {"+domainEntry(saved, "")+"}"))
	uuid := virsh(t, e.uri, "domuuid", saved)
	virsh(t, e.uri, "managedsave", saved)
	hasSave := func() bool {
		return strings.Contains(virsh(t, e.uri, "dominfo", saved), "Managed save:   yes")
	}
	if !hasSave() {
		t.Fatal("no managed save image")
	}

	// Pruned.
	empty := e.config("empty.cue", "domains: {}")
	// An object that cannot be planned makes plan exit 1, as apply would.
	out, err := e.nixvirt("plan", "--owner", owner, empty)
	if err == nil || !strings.Contains(out, "managed save image") || !strings.Contains(out, "virsh managedsave-remove "+saved) {
		t.Fatalf("plan: %v\n%s", err, out)
	}
	if out, err := e.nixvirt("apply", "--owner", owner, empty); err == nil || !strings.Contains(out, "managed save image") {
		t.Fatalf("apply did not refuse: %v\n%s", err, out)
	}
	if !hasSave() {
		t.Fatal("apply deleted the managed save image")
	}

	// Renamed (same UUID, another name).
	rename := e.config("rename.cue", "domains: {"+domainEntry(renamed, fmt.Sprintf(", uuid: %q", uuid))+"}")
	if out, err := e.nixvirt("apply", "--owner", owner, rename); err == nil || !strings.Contains(out, "which renaming it would lose") || !strings.Contains(out, "virsh managedsave-remove "+saved) {
		t.Fatalf("apply did not refuse the rename: %v\n%s", err, out)
	}
	if !hasSave() {
		t.Fatal("the rename deleted the managed save image")
	}
}

// TestE2ETakeOverShowsWhatGoes: a domain nixvirt did not define, with a
// data disk its configuration (imported before the disk was added) leaves
// out, is planned as a redefine whose diff shows the disk going, not as
// an identical take-over.
func TestE2ETakeOverShowsWhatGoes(t *testing.T) {
	e := newOwnerE2E(t, "t")
	name := e.name("data")
	e.removeDomains(name)
	base := fmt.Sprintf(`<domain type="qemu"><name>%s</name><memory unit="MiB">32</memory><os><type arch="x86_64">hvm</type></os><devices>%%s</devices></domain>`, name)
	f := filepath.Join(e.dir, "dom.xml")
	os.WriteFile(f, []byte(fmt.Sprintf(base, "")), 0o644)
	virsh(t, e.uri, "define", f)
	imported := e.mustNixvirt("import", "--connect", e.uri, "--kind", "domain", name)
	cfg := e.config("host.cue", fmt.Sprintf("domains: %q: definition: {\n%s\n}", name, imported))
	if out := e.mustNixvirt("plan", "--owner", e.owner("t"), "--no-prune", cfg); !strings.Contains(out, "nixvirt takes over an identical object") {
		t.Fatalf("plan before the disk:\n%s", out)
	}

	// Someone adds a data disk by hand.
	uuid := virsh(t, e.uri, "domuuid", name)
	withDisk := strings.Replace(fmt.Sprintf(base, `<disk type="file" device="disk"><driver name="qemu" type="raw"/><source file="/var/lib/libvirt/images/`+name+`.img"/><target dev="vdb" bus="virtio"/></disk>`), "<memory", "<uuid>"+uuid+"</uuid><memory", 1)
	os.WriteFile(f, []byte(withDisk), 0o644)
	virsh(t, e.uri, "define", f)
	out := e.mustNixvirt("plan", "--owner", e.owner("t"), "--no-prune", cfg)
	if !strings.Contains(out, fmt.Sprintf("~ domain %q will be redefined", name)) || !regexp.MustCompile(`(?m)^\s+-\s+<disk device="disk" type="file">`).MatchString(out) {
		t.Fatalf("the plan does not show the disk going:\n%s", out)
	}
}

// TestE2EApplyLeavesOthersAlone: a host with nixvirt's objects of another
// configuration (a running domain, an active network and a pool of
// another owner, and a domain of the default owner, as every nixvirt
// before owners marked them) is exactly as it was after TestE2EApply's
// applies, which create, change and prune their own objects.
func TestE2EApplyLeavesOthersAlone(t *testing.T) {
	e := newOwnerE2E(t, "x")
	other, def := e.name("other"), e.name("default")
	network, bridge, pool := e.name("net"), fmt.Sprintf("nvxox%d", os.Getpid()%100000), e.name("pool")
	e.removeDomains(other, def)
	poolDir, err := os.MkdirTemp("", "nvxown-pool-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, args := range [][]string{{"net-destroy", network}, {"net-undefine", network}, {"pool-destroy", pool}, {"pool-undefine", pool}} {
			exec.Command("virsh", append([]string{"-c", e.uri}, args...)...).Run()
		}
		os.RemoveAll(poolDir)
	})
	// No forward and no address: the network carries no traffic.
	e.mustNixvirt("apply", "--owner", e.owner("other"), e.config("other.cue", fmt.Sprintf(`domains: {%s}
	networks: %q: {definition: {bridge: name: %q}, active: true}
	pools: %q: {definition: {type: "dir", target: path: %q}, active: true}`, domainEntry(other, ""), network, bridge, pool, poolDir)))
	// The default owner's, without pruning: the host may hold other
	// objects of the default owner.
	e.mustNixvirt("apply", "--no-prune", e.config("default.cue", "domains: {"+domainEntry(def, "")+"}"))

	figures := regexp.MustCompile(`\s*<(capacity|allocation|available)[^>]*>[^<]*</(capacity|allocation|available)>`)
	snapshot := func() string {
		return e.snapshot(other) + e.snapshot(def) +
			virsh(t, e.uri, "net-dumpxml", "--inactive", network) + virsh(t, e.uri, "net-info", network) +
			figures.ReplaceAllString(virsh(t, e.uri, "pool-dumpxml", "--inactive", pool), "") +
			virsh(t, e.uri, "domstate", other)
	}
	before := snapshot()
	if !strings.Contains(before, "running") {
		t.Fatalf("the other owner's domain is not running:\n%s", before)
	}

	// TestE2EApply, with this test's state directory: the other owner's
	// pool is in the same record.
	t.Run("TestE2EApply", func(t *testing.T) { applyScenario(t, e.uri, e.dir) })

	if after := snapshot(); after != before {
		t.Fatalf("TestE2EApply's applies changed another configuration's objects:\n%s", unifiedDiffLines(before, after))
	}
}

// unifiedDiffLines lists the lines of b that are not in a, for a failure
// message.
func unifiedDiffLines(a, b string) string {
	in := map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		in[l] = true
	}
	var out []string
	for _, l := range strings.Split(b, "\n") {
		if !in[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
