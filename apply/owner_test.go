package apply

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/compiler"
)

const webOnly = `domains: web: {
		definition: {type: "test", uuid: "c7a5fdbd-cdaf-9455-926a-d65c16db1809", memory: {count: 256, unit: "MiB"}, os: type: "hvm"}
		active: true
	}`

const otherOnly = `domains: other: {
		definition: {type: "test", uuid: "d7a5fdbd-cdaf-9455-926a-d65c16db1809", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
		active: true
	}`

func (th *testHost) planOf(owner, body string, takeOver bool) *Plan {
	return MakePlan(th.wantedOf(owner, body), th.connect, Options{Prune: true, TakeOver: takeOver, State: th.st})
}

func (th *testHost) applyOf(owner, body string, takeOver bool) *Result {
	return Apply(context.Background(), th.wantedOf(owner, body), th.connect, Options{Prune: true, TakeOver: takeOver, State: th.st}, func(Outcome) {})
}

func unmanagedOf(p *Plan, name string) *Unmanaged {
	for i := range p.Unmanaged {
		if p.Unmanaged[i].Name == name {
			return &p.Unmanaged[i]
		}
	}
	return nil
}

// Two configurations on one host each prune only their own objects: B's
// apply leaves A's running domain as it was and lists it with its owner,
// and naming it in B changes nothing until --take-over moves it.
func TestOwnersDoNotPruneEachOther(t *testing.T) {
	th := newTestHost(t)
	if res := th.applyOf("team-a", webOnly, false); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	before := th.live(compiler.KindDomain, "web")
	if m := readMark(compiler.KindDomain, before.XML); m.Owner != "team-a" || m.UUID != "c7a5fdbd-cdaf-9455-926a-d65c16db1809" {
		t.Fatalf("mark: %+v", m)
	}
	p := th.planOf("team-b", otherOnly, false)
	if got := actions(p); got != "domain/other:create domain/other:start" {
		t.Fatalf("B's plan: %s", got)
	}
	if u := unmanagedOf(p, "web"); u == nil || u.Owner != "team-a" {
		t.Fatalf("A's domain is not listed with its owner: %+v", p.Unmanaged)
	}
	var text strings.Builder
	RenderText(&text, p)
	if !strings.Contains(text.String(), `· domain "web" on `+th.uri+` belongs to owner "team-a" and is left alone`) {
		t.Errorf("plan text:\n%s", text.String())
	}
	if res := th.applyOf("team-b", otherOnly, false); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	after := th.live(compiler.KindDomain, "web")
	if after == nil || !after.Active || after.XML != before.XML {
		t.Fatalf("B's apply changed A's domain: %+v", after)
	}
	// A again: B's domain is left alone too.
	if got := actions(th.planOf("team-a", webOnly, false)); got != "" {
		t.Fatalf("A's plan after B: %s", got)
	}

	// present: false in B does not delete A's domain.
	p = th.planOf("team-b", `domains: web: present: false`, false)
	if pr := p.Changes[0].Problem; pr == nil || pr.Code != ProblemNotOwned || pr.Detail != "team-a" || !strings.Contains(ProblemText(p.Changes[0]), `belongs to owner "team-a"`) {
		t.Fatalf("present: false on another owner's domain: %s %+v", actions(p), pr)
	}

	// B names A's domain, with another definition: refused, unchanged.
	both := otherOnly + "\n" + strings.Replace(webOnly, "count: 256", "count: 512", 1)
	p = th.planOf("team-b", both, false)
	if got := actions(p); got != "domain/web:error" {
		t.Fatalf("B naming A's domain: %s", got)
	}
	if pr := p.Changes[len(p.Changes)-1].Problem; pr.Code != ProblemOtherOwner || pr.Detail != "team-a" {
		t.Fatalf("problem: %+v", pr)
	}
	res := th.applyOf("team-b", both, false)
	if len(res.Failed) != 1 || th.live(compiler.KindDomain, "web").XML != before.XML {
		t.Fatalf("refused object changed: %+v", res.Failed)
	}

	// --take-over moves it, as a redefine, and says from whom.
	p = th.planOf("team-b", both, true)
	if got := actions(p); got != "domain/web:redefine domain/web:restart" {
		t.Fatalf("take-over: %s", got)
	}
	if r := p.Changes[len(p.Changes)-1].Actions[0].Reasons; len(r) != 2 || r[1] != (Reason{Code: ReasonTakenFromOwner, Name: "team-a"}) {
		t.Fatalf("reasons: %+v", r)
	}
	if res := th.applyOf("team-b", both, true); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	if m := readMark(compiler.KindDomain, th.live(compiler.KindDomain, "web").XML); m.Owner != "team-b" {
		t.Fatalf("mark after take-over: %+v", m)
	}
	// Now A's configuration is the one refused.
	if got := actions(th.planOf("team-a", webOnly, false)); got != "domain/web:error" {
		t.Fatalf("A after the take-over: %s", got)
	}
}

// Taking over another owner's object that has the configuration's
// definition is an adoption: nothing restarts.
func TestTakeOverIdenticalFromOwner(t *testing.T) {
	th := newTestHost(t)
	th.applyOf("team-a", webOnly, false)
	p := th.planOf("team-b", webOnly, true)
	if got := actions(p); got != "domain/web:adopt" {
		t.Fatalf("got %s", got)
	}
	th.applyOf("team-b", webOnly, true)
	if got := actions(th.planOf("team-b", webOnly, false)); got != "" {
		t.Fatalf("not converged: %s", got)
	}
}

// A mark written before marks named an owner is the default owner's:
// upgrading changes nothing for a configuration without an owner, and
// another owner leaves the object alone.
func TestMarkWithoutOwnerIsDefaultOwners(t *testing.T) {
	th := newTestHost(t)
	th.apply(webOnly)
	// Rewrite the mark as nixvirt wrote it before owners.
	l := th.live(compiler.KindDomain, "web")
	m := readMark(compiler.KindDomain, l.XML)
	var esc strings.Builder
	xml.EscapeText(&esc, []byte(m.Definition))
	legacy := markRE.ReplaceAllString(l.XML, `<nixvirt:managed xmlns:nixvirt="`+markNS+`" hash="`+m.Hash+`">`+esc.String()+`</nixvirt:managed>`)
	if err := th.host.Define(compiler.KindDomain, legacy); err != nil {
		t.Fatal(err)
	}
	if m := readMark(compiler.KindDomain, th.live(compiler.KindDomain, "web").XML); m.Owner != "" || m.UUID != "" || m.Hash == "" {
		t.Fatalf("not a legacy mark: %+v", m)
	}
	before := th.host.Writes()
	if res := th.applyOf("", webOnly, false); res.Added+res.Changed+res.Destroyed != 0 || th.host.Writes() != before {
		t.Fatalf("the default owner rewrote its legacy object: %+v", res)
	}
	p := th.planOf("team-b", otherOnly, false)
	if u := unmanagedOf(p, "web"); u == nil || u.Owner != DefaultOwner {
		t.Fatalf("legacy object: %+v", p.Unmanaged)
	}
	th.applyOf("team-b", otherOnly, false)
	if th.live(compiler.KindDomain, "web") == nil {
		t.Fatal("another owner pruned the default owner's legacy object")
	}
}

// A copy of an owned domain (virsh dumpxml, a new name and no UUID, virsh
// define) carries the original's mark but is nobody's: never pruned, and
// present: false does not delete it.
func TestCopyIsNeverPruned(t *testing.T) {
	th := newTestHost(t)
	th.apply(webOnly)
	var d libvirtxml.Domain
	if err := d.Unmarshal(th.live(compiler.KindDomain, "web").XML); err != nil {
		t.Fatal(err)
	}
	d.Name, d.UUID = "web-copy", ""
	x, _ := d.Marshal()
	if err := th.host.Define(compiler.KindDomain, x); err != nil {
		t.Fatal(err)
	}
	p := th.plan(webOnly)
	if got := actions(p); got != "" {
		t.Fatalf("plan touches the copy: %s", got)
	}
	if u := unmanagedOf(p, "web-copy"); u == nil || u.CopyOf != "c7a5fdbd-cdaf-9455-926a-d65c16db1809" || u.Owner != "" {
		t.Fatalf("copy: %+v", p.Unmanaged)
	}
	th.apply(`domains: []`)
	if th.live(compiler.KindDomain, "web-copy") == nil || th.live(compiler.KindDomain, "web") != nil {
		t.Fatal("pruning must delete the original and keep the copy")
	}
	if got := actions(th.plan(`domains: "web-copy": present: false`)); got != "domain/web-copy:error" {
		t.Fatalf("present: false on a copy: %s", got)
	}
}

// Pools, which carry no mark, are owned through nixvirt's record, which
// names the owner too.
func TestPoolOwnerIsRecorded(t *testing.T) {
	th := newTestHost(t)
	pool := `pools: vms: {definition: {type: "dir", target: path: "/var/lib/nvt"}, active: true}`
	th.applyOf("team-a", pool, false)
	if got := th.st.pool(th.uri, th.live(compiler.KindPool, "vms").UUID).Owner; got != "team-a" {
		t.Fatalf("record owner %q", got)
	}
	th.applyOf("team-b", `pools: []`, false)
	if th.live(compiler.KindPool, "vms") == nil {
		t.Fatal("another owner pruned the pool")
	}
	th.applyOf("team-a", `pools: []`, false)
	if th.live(compiler.KindPool, "vms") != nil {
		t.Fatal("its owner did not prune the pool")
	}
}

// stopHost records the timeouts Stop is given.
type stopHost struct {
	Host
	timeouts map[string]time.Duration
}

func (s stopHost) Close() error { return nil }

func (s stopHost) Stop(ctx context.Context, k compiler.Kind, uuid string, timeout time.Duration) error {
	s.timeouts[uuid] = timeout
	return s.Host.Stop(ctx, k, uuid, timeout)
}

// A running domain that is pruned is asked to shut down and given its
// entry's shutdownTimeout as nixvirt recorded it (the connection's 60 s
// when it was applied, not the 7 s it says now), as present: false gives
// the entry's.
func TestPruneShutsDownGracefully(t *testing.T) {
	th := newTestHost(t)
	th.apply(webOnly + "\n" + otherOnly)
	sh := stopHost{Host: th.host, timeouts: map[string]time.Duration{}}
	conn := func(string) (Host, error) { return sh, nil }
	// web leaves the configuration; other says present: false.
	body := "shutdownTimeout: 7\n" + strings.Replace(otherOnly, "active: true", "present: false, shutdownTimeout: 3", 1)
	res := Apply(context.Background(), th.wanted(body), conn, Options{Prune: true, State: th.st}, func(Outcome) {})
	if len(res.Failed) > 0 || res.Destroyed != 2 {
		t.Fatalf("%+v", res)
	}
	if got := sh.timeouts["c7a5fdbd-cdaf-9455-926a-d65c16db1809"]; got != 60*time.Second {
		t.Errorf("pruned domain given %v to shut down, want its entry's 60s", got)
	}
	if got := sh.timeouts["d7a5fdbd-cdaf-9455-926a-d65c16db1809"]; got != 3*time.Second {
		t.Errorf("present: false domain given %v, want its 3s", got)
	}
}

// managedSave saves a running test-driver domain's memory, as `virsh
// managedsave` does.
func (th *testHost) managedSave(name string) {
	th.t.Helper()
	d, err := th.host.(*libvirtHost).conn.LookupDomainByName(name)
	if err != nil {
		th.t.Fatal(err)
	}
	defer d.Free()
	if err := d.ManagedSave(0); err != nil {
		th.t.Fatal(err)
	}
}

// A domain with a managed save image is never deleted or renamed (either
// would delete the image): plan refuses it with what to do, apply leaves
// it and its image as they are.
func TestManagedSaveIsKept(t *testing.T) {
	for _, tc := range []struct{ name, body, op string }{
		{"pruned", `domains: []`, "delete"},
		{"present-false", `domains: web: present: false`, "delete"},
		{"renamed", strings.Replace(webOnly, "domains: web:", "domains: www:", 1), "rename:web"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := newTestHost(t)
			th.apply(webOnly)
			th.managedSave("web")
			p := th.plan(tc.body)
			var c *Change
			for _, ch := range p.Changes {
				if ch.Kind == compiler.KindDomain && ch.UUID == "c7a5fdbd-cdaf-9455-926a-d65c16db1809" {
					c = ch
				}
			}
			if c == nil || c.Problem == nil || c.Problem.Code != ProblemManagedSave || c.Problem.Detail != tc.op {
				t.Fatalf("plan: %s %+v", actions(p), c)
			}
			if !strings.Contains(ProblemText(c), "managed save image") || !strings.Contains(ProblemText(c), "virsh managedsave-remove") {
				t.Errorf("problem text: %s", ProblemText(c))
			}
			res := Apply(context.Background(), th.wanted(tc.body), th.connect, Options{Prune: true, State: th.st}, func(Outcome) {})
			if len(res.Failed) != 1 {
				t.Fatalf("apply: %+v", res)
			}
			if has, err := th.host.HasManagedSave("c7a5fdbd-cdaf-9455-926a-d65c16db1809"); err != nil || !has {
				t.Fatalf("the managed save image is gone: %v %v", has, err)
			}
		})
	}
}

// Taking over a domain whose definition has more than the configuration
// (a data disk) is a redefine whose diff shows the disk going, not an
// identical adoption.
func TestTakeOverShowsWhatGoes(t *testing.T) {
	th := newTestHost(t)
	base := `<domain type="test"><name>data</name><uuid>33333333-2222-4333-8444-555555555555</uuid><memory>65536</memory><os><type>hvm</type></os><devices>%s</devices></domain>`
	disk := `<disk type="file" device="disk"><source file="/var/lib/nvt/data.img"/><target dev="vdb" bus="virtio"/></disk>`
	if err := th.host.Define(compiler.KindDomain, strings.Replace(base, "%s", "", 1)); err != nil {
		t.Fatal(err)
	}
	// The configuration is the domain as imported before the disk was
	// added by hand.
	body := "domains: data: definition: {\n" + importDomain(t, th.live(compiler.KindDomain, "data").XML) + "\n}"
	if got := actions(th.plan(body)); got != "domain/data:adopt" {
		t.Fatalf("identical: %s", got)
	}
	if err := th.host.Define(compiler.KindDomain, strings.Replace(base, "%s", disk, 1)); err != nil {
		t.Fatal(err)
	}
	p := th.plan(body)
	if got := actions(p); got != "domain/data:redefine" {
		t.Fatalf("with a disk the configuration lacks: %s", got)
	}
	if c := p.Changes[0]; c.Actions[0].Reasons[0].Code != ReasonTakeOverDiffers || !strings.Contains(c.Diff, `-    <disk device="disk" type="file">`) {
		t.Fatalf("reason %+v, diff:\n%s", c.Actions[0].Reasons, c.Diff)
	}
}

// A kind that a connection leaves out (no key, or null) is left alone:
// the owned objects of that kind are kept, and plan says so in one line
// per kind, naming them; another owner's are listed as before, and a
// kind listed empty prunes its objects.
func TestKindLeftOutKeepsItsObjectsAndSaysSo(t *testing.T) {
	th := newTestHost(t)
	store := th.secretStore()
	t.Setenv("NVT_SECRET", secretValue)
	secrets := `secrets: "ceph-key": {definition: {private: true, usage: {type: "ceph", name: "client.nvt"}}, value: env: "NVT_SECRET"}`
	pools := `pools: "db-pool": definition: {type: "dir", target: path: "/var/lib/nvt-db"}`
	if res := th.applyOf("team-a", web+"\n"+pools+"\n"+secrets, false); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	if res := th.applyOf("team-b", `networks: other: definition: bridge: name: "virbr-nvt9"`, false); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	onlyDomains := `domains: web: {
		definition: {
			type: "test", uuid: "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
			memory: {count: 256, unit: "MiB"}, os: type: "hvm"
			devices: interface: {type: "network", source: network: "lab"}
		}
		active: true
		autostart: true
	}`
	p := th.planOf("team-a", onlyDomains+"\npools: null", false)
	want := []Kept{
		{th.uri, compiler.KindNetwork, []string{"lab"}},
		{th.uri, compiler.KindPool, []string{"db-pool", "vms"}},
		{th.uri, compiler.KindSecret, []string{"ceph-key"}},
	}
	if fmt.Sprint(p.Kept) != fmt.Sprint(want) || p.HasChanges() || p.Problems() > 0 {
		t.Fatalf("kept %+v, want %+v; changes %s", p.Kept, want, actions(p))
	}
	var text, doc bytes.Buffer
	RenderText(&text, p)
	for _, line := range []string{
		"  · networks on " + th.uri + `: not in this configuration; keeping the one this owner has ("lab")` + "\n",
		"  · pools on " + th.uri + `: not in this configuration; keeping the 2 this owner has ("db-pool", "vms")` + "\n",
		"  · secrets on " + th.uri + `: not in this configuration; keeping the one this owner has ("ceph-key")` + "\n",
		`  · network "other" on ` + th.uri + ` belongs to owner "team-b" and is left alone` + "\n",
	} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("plan does not say %q:\n%s", line, text.String())
		}
	}
	if err := RenderJSON(&doc, p); err != nil || !strings.Contains(doc.String(), `"kind": "pool",
      "names": [
        "db-pool",
        "vms"
      ]`) {
		t.Errorf("JSON: %v\n%s", err, doc.String())
	}
	// Apply says it too, and keeps them.
	res := th.applyOf("team-a", onlyDomains, false)
	if len(res.Failed) > 0 || fmt.Sprint(res.Plan.Kept) != fmt.Sprint(want) {
		t.Fatalf("apply: kept %+v, failures %v", res.Plan.Kept, res.Failed)
	}
	if th.live(compiler.KindPool, "vms") == nil || th.live(compiler.KindNetwork, "lab") == nil || len(store.defs) != 1 {
		t.Fatal("a kind left out lost its objects")
	}
	// Listed, even empty, a kind is managed: its objects left are pruned,
	// and nothing is said to be kept.
	p = th.planOf("team-a", onlyDomains+"\npools: {}\nnetworks: lab: definition: bridge: name: \"virbr-nvt0\"\nsecrets: []", false)
	got := strings.Fields(actions(p))
	sort.Strings(got)
	if len(p.Kept) != 0 || strings.Join(got, " ") != "pool/db-pool:delete pool/vms:delete pool/vms:stop secret/ceph-key:delete" {
		t.Fatalf("kinds listed: kept %+v, actions %s", p.Kept, actions(p))
	}
}
