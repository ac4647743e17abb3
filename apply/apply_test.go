package apply

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/compiler"
)

// testHost is a libvirt test-driver host of one test: a fresh host file,
// and one connection that plan and apply share (the driver keeps its state
// per connection).
type testHost struct {
	t    testing.TB
	uri  string
	host Host
	st   *State
	// wrap, when set, wraps the host each connection gets.
	wrap func(Host) Host
}

// hostXML is a prepared host with objects nixvirt did not define.
const hostXML = `<node>
  <domain type="test">
    <name>manual</name>
    <uuid>11111111-2222-4333-8444-555555555555</uuid>
    <memory>65536</memory>
    <os><type>hvm</type></os>
  </domain>
  <network>
    <name>manualnet</name>
    <uuid>22222222-3333-4444-8555-666666666666</uuid>
    <bridge name="virbr-manual"/>
  </network>
</node>
`

func newTestHost(t testing.TB) *testHost {
	dir := t.TempDir()
	file := filepath.Join(dir, "host.xml")
	if err := os.WriteFile(file, []byte(hostXML), 0o644); err != nil {
		t.Fatal(err)
	}
	uri := "test://" + file
	h, err := Connect(uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	st := OpenState(filepath.Join(dir, "state"))
	st.owners, st.ownersNamed = filepath.Join(dir, "owners"), true
	return &testHost{t: t, uri: uri, host: h, st: st}
}

type keepOpen struct{ Host }

func (keepOpen) Close() error { return nil }

func (th *testHost) connect(uri string) (Host, error) {
	if uri != th.uri {
		return nil, fmt.Errorf("cannot connect to %s: no such test host", uri)
	}
	if th.wrap != nil {
		return th.wrap(th.host), nil
	}
	return keepOpen{th.host}, nil
}

// wanted compiles a configuration given as the body of this host's
// connection.
func (th *testHost) wanted(body string) *Desired {
	th.t.Helper()
	return th.wantedOf("", body)
}

// wantedOf compiles a configuration of this owner ("": none given).
func (th *testHost) wantedOf(owner, body string) *Desired {
	th.t.Helper()
	s, err := compiler.LoadSchema()
	if err != nil {
		th.t.Fatal(err)
	}
	v := s.Context().CompileString(fmt.Sprintf("connections: %q: {\n%s\n}", th.uri, body), cue.Filename("host.cue"))
	u, err := s.CheckConfig(v)
	if err != nil {
		th.t.Fatal(err)
	}
	cfg, err := s.Config(u, th.t.TempDir())
	if err != nil {
		th.t.Fatal(err)
	}
	if owner != "" {
		cfg.Owner = owner
	}
	w, err := Build(s, cfg)
	if err != nil {
		th.t.Fatal(err)
	}
	return w
}

func (th *testHost) plan(body string) *Plan {
	return MakePlan(th.wanted(body), th.connect, Options{Prune: true, State: th.st})
}

func (th *testHost) apply(body string) (*Result, []string) {
	th.t.Helper()
	var lines []string
	res := Apply(context.Background(), th.wanted(body), th.connect, Options{Prune: true, State: th.st}, func(o Outcome) { lines = append(lines, OutcomeText(o)) })
	if len(res.Failed) > 0 {
		th.t.Fatalf("apply failed: %v", res.Failed)
	}
	return res, lines
}

func (th *testHost) live(k compiler.Kind, name string) *Live {
	ls, err := th.host.List(k)
	if err != nil {
		th.t.Fatal(err)
	}
	for i := range ls {
		if ls[i].Name == name {
			return &ls[i]
		}
	}
	return nil
}

func actions(p *Plan) string {
	var out []string
	for _, c := range p.Changes {
		for _, s := range c.Actions {
			a := fmt.Sprintf("%s/%s:%s", c.Kind, c.Name, s.Action)
			if s.Volume != "" {
				a += ":" + s.Volume
			}
			out = append(out, a)
		}
		if c.Problem != nil {
			out = append(out, fmt.Sprintf("%s/%s:error", c.Kind, c.Name))
		}
	}
	return strings.Join(out, " ")
}

const web = `
	networks: lab: {definition: {bridge: name: "virbr-nvt0"}, active: true}
	pools: vms: {
		definition: {type: "dir", target: path: "/var/lib/nvt"}
		active: true
		volumes: "web.img": definition: capacity: {count: 1, unit: "GiB"}
	}
	domains: web: {
		definition: {
			type: "test", uuid: "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
			memory: {count: 256, unit: "MiB"}, os: type: "hvm"
			devices: interface: {type: "network", source: network: "lab"}
		}
		active: true
		autostart: true
	}
`

func TestCreateThenNothingToDo(t *testing.T) {
	th := newTestHost(t)
	if got, want := actions(th.plan(web)), "network/lab:create network/lab:start pool/vms:create pool/vms:start pool/vms:create-volume:web.img domain/web:create domain/web:start domain/web:autostart"; got != want {
		t.Fatalf("first plan:\n got %s\nwant %s", got, want)
	}
	res, lines := th.apply(web)
	if res.Added != 4 || len(lines) != 3 {
		t.Fatalf("first apply: %+v %q", res, lines)
	}
	d := th.live(compiler.KindDomain, "web")
	if d == nil || !d.Active || !d.Autostart {
		t.Fatalf("web: %+v", d)
	}
	// The interface got NixVirt's MAC for this UUID and index 0.
	if !strings.Contains(d.XML, "52:54:00:0b:82:b2") {
		t.Errorf("derived MAC missing:\n%s", d.XML)
	}
	// A second run plans nothing and makes no libvirt write.
	if p := th.plan(web); p.HasChanges() {
		t.Fatalf("second plan has changes: %s", actions(p))
	}
	before := th.host.Writes()
	res, _ = th.apply(web)
	if res.Added+res.Changed+res.Destroyed != 0 || th.host.Writes() != before {
		t.Fatalf("second apply changed something: %+v, %d writes", res, th.host.Writes()-before)
	}
}

func TestUnmanagedObjectsAreListedAndKept(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	p := th.plan(web)
	var names []string
	for _, u := range p.Unmanaged {
		names = append(names, string(u.Kind)+"/"+u.Name)
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "domain/manual") || !strings.Contains(got, "network/manualnet") {
		t.Fatalf("unmanaged: %s", got)
	}
	// A kind the configuration does not list is not pruned.
	th.apply(`domains: []`)
	if th.live(compiler.KindNetwork, "lab") == nil || th.live(compiler.KindPool, "vms") == nil {
		t.Fatal("a kind the configuration does not list was pruned")
	}
	// Emptying the lists deletes what nixvirt defined, only.
	th.apply(`domains: [], pools: []`)
	if th.live(compiler.KindNetwork, "lab") == nil {
		t.Fatal("a configuration without networks must leave networks alone")
	}
	th.apply(`domains: [], networks: [], pools: []`)
	if th.live(compiler.KindDomain, "manual") == nil || th.live(compiler.KindNetwork, "manualnet") == nil {
		t.Fatal("an object nixvirt did not define was removed")
	}
	if th.live(compiler.KindDomain, "web") != nil || th.live(compiler.KindNetwork, "lab") != nil || th.live(compiler.KindPool, "vms") != nil {
		t.Fatal("an owned object that left the configuration was kept")
	}
}

func TestRedefineAndRestartPolicies(t *testing.T) {
	for _, tc := range []struct {
		restart string
		change  bool
		want    string
	}{
		{"null", true, "domain/web:redefine domain/web:restart"},
		{"false", true, "domain/web:redefine"},
		{"true", false, "domain/web:restart"},
		{"null", false, ""},
	} {
		t.Run(fmt.Sprintf("restart=%s,changed=%v", tc.restart, tc.change), func(t *testing.T) {
			th := newTestHost(t)
			th.apply(web)
			body := strings.Replace(web, "autostart: true", "autostart: true\n\t\trestart: "+tc.restart, 1)
			if tc.change {
				body = strings.Replace(body, "count: 256", "count: 512", 1)
			}
			p := th.plan(body)
			if got := actions(p); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if tc.change && !strings.Contains(p.Changes[2].Diff, "-  <memory unit=\"MiB\">256</memory>\n+  <memory unit=\"MiB\">512</memory>") {
				t.Errorf("diff does not show the memory change:\n%s", p.Changes[2].Diff)
			}
			th.apply(body)
			if p := th.plan(body); tc.restart != "true" && p.HasChanges() {
				t.Fatalf("not converged: %s", actions(p))
			}
			if d := th.live(compiler.KindDomain, "web"); !d.Active {
				t.Fatal("web stopped")
			}
		})
	}
}

func TestRenameKeepsIdentity(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	body := strings.Replace(web, "domains: web:", "domains: www:", 1)
	if got, want := actions(th.plan(body)), "domain/www:rename domain/www:restart"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	th.apply(body)
	if th.live(compiler.KindDomain, "web") != nil || th.live(compiler.KindDomain, "www") == nil {
		t.Fatal("not renamed")
	}
	if d := th.live(compiler.KindDomain, "www"); canonicalUUID(d.UUID) != "c7a5fdbd-cdaf-9455-926a-d65c16db1809" || !d.Active {
		t.Fatalf("renamed domain: %+v", d)
	}
}

func TestVolumesCreatedOnceAndDeletedOnlyWhenAbsent(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	// A changed definition of an existing volume does not overwrite it:
	// a larger capacity grows it, and nothing else changes.
	grown := strings.Replace(web, "capacity: {count: 1, unit: \"GiB\"}", "capacity: {count: 2, unit: \"GiB\"}", 1)
	if got, want := actions(th.plan(grown)), "pool/vms:grow-volume:web.img"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	gone := strings.Replace(web, `"web.img": definition: capacity: {count: 1, unit: "GiB"}`, `"web.img": present: false`, 1)
	if got, want := actions(th.plan(gone)), "pool/vms:delete-volume:web.img"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	th.apply(gone)
	vols, _ := th.host.Volumes("vms")
	if len(vols) != 0 {
		t.Fatalf("volume kept: %v", vols)
	}
}

func TestNameTakenByAnotherUUID(t *testing.T) {
	th := newTestHost(t)
	body := `domains: manual: definition: {type: "test", uuid: "99999999-2222-4333-8444-555555555555", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}
	domains: other: definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}`
	p := th.plan(body)
	if got := actions(p); got != "domain/manual:error domain/other:create" {
		t.Fatalf("got %q", got)
	}
	if pr := p.Changes[0].Problem; pr.Code != ProblemNameTaken || pr.Detail != "11111111-2222-4333-8444-555555555555" || pr.Holder != nil {
		t.Fatalf("problem: %+v", pr)
	}
	res := Apply(context.Background(), th.wanted(body), th.connect, Options{Prune: true, State: th.st}, func(Outcome) {})
	if len(res.Failed) != 1 || th.live(compiler.KindDomain, "other") == nil {
		t.Fatalf("one failing object must not stop the others: %+v", res)
	}
}

// An identical object nixvirt did not define (its definition as import
// writes it) is taken over without a change. A domain: the test driver
// cannot show an active network's persistent definition.
func TestAdoptIdenticalObject(t *testing.T) {
	th := newTestHost(t)
	body := "domains: manual: definition: {\n" + importDomain(t, th.live(compiler.KindDomain, "manual").XML) + "\n}"
	if got := actions(th.plan(body)); got != "domain/manual:adopt" {
		t.Fatalf("got %q", got)
	}
	th.apply(body)
	if p := th.plan(body); p.HasChanges() {
		t.Fatalf("not converged: %s", actions(p))
	}
}

func TestNetworkRestartStopsAttachedDomains(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	body := strings.Replace(web, `bridge: name: "virbr-nvt0"}`, `bridge: name: "virbr-nvt0", mtu: size: 9000}`, 1)
	p := th.plan(body)
	if got := actions(p); got != "network/lab:redefine network/lab:restart" {
		t.Fatalf("got %q", got)
	}
	if r := p.Changes[0].Actions[1].Reasons; len(r) != 2 || r[1] != (Reason{Code: ReasonAttachedDomain, Name: "web"}) {
		t.Fatalf("reasons: %+v", r)
	}
	th.apply(body)
	if d := th.live(compiler.KindDomain, "web"); !d.Active {
		t.Fatal("web was not started again")
	}
}

func TestPresentFalseDeletesOnlyOwned(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	body := strings.Replace(web, "domains: web: {", "domains: manual: present: false\n\tdomains: gone: {present: false}\n\tdomains: web: {", 1)
	body = strings.Replace(body, "domains: web: {\n\t\tdefinition:", "domains: web: {\n\t\tpresent: false, keepNvram: false\n\t\tdefinition:", 1)
	p := th.plan(body)
	if got := actions(p); got != "domain/manual:error domain/web:stop domain/web:delete" {
		t.Fatalf("got %q", got)
	}
	for _, c := range p.Changes {
		if c.Name != "web" {
			continue
		}
		if s := c.Actions[1]; !s.DeleteNvram || s.DeleteTPM || StepReasons(c.Kind, s) != "present: false; its disks and TPM state are kept, its NVRAM is deleted" {
			t.Errorf("delete: %+v", s)
		}
	}
	res := Apply(context.Background(), th.wanted(body), th.connect, Options{Prune: true, State: th.st}, func(Outcome) {})
	if len(res.Failed) != 1 || th.live(compiler.KindDomain, "web") != nil || th.live(compiler.KindDomain, "manual") == nil {
		t.Fatalf("%+v", res)
	}
}

// Importing a host nixvirt already manages gives definitions written
// otherwise than nixvirt recorded them: the plan refreshes its record and
// restarts nothing.
func TestEquivalentDefinitionRestartsNothing(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	s, err := compiler.LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	_, x, err := s.Import("web", []byte(stripMarkFromLive(th.live(compiler.KindDomain, "web").XML)))
	if err != nil {
		t.Fatal(err)
	}
	src, err := compiler.FormatCUE(x, "")
	if err != nil {
		t.Fatal(err)
	}
	// The same connection, with the domain's definition as imported.
	body := strings.Split(web, "\tdomains: web: {")[0] +
		"\tdomains: web: {\n\t\tdefinition: {\n" + string(src) + "\n\t\t}\n\t\tactive: true\n\t\tautostart: true\n\t}\n"
	p := th.plan(body)
	if got := actions(p); got != "domain/web:refresh" {
		t.Fatalf("got %q", got)
	}
	th.apply(body)
	if p := th.plan(body); p.HasChanges() {
		t.Fatalf("not converged: %s", actions(p))
	}
}

// importDomain is a live domain's definition as `nixvirt import` writes
// it, in CUE.
func importDomain(t *testing.T, liveXML string) string {
	t.Helper()
	s, err := compiler.LoadSchema()
	if err != nil {
		t.Fatal(err)
	}
	_, x, err := s.Import("live", []byte(stripMarkFromLive(liveXML)))
	if err != nil {
		t.Fatal(err)
	}
	src, err := compiler.FormatCUE(x, "")
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// stripMarkFromLive removes nixvirt's metadata, as an import of a host
// would carry it otherwise.
func stripMarkFromLive(x string) string {
	i := strings.Index(x, "<metadata>")
	j := strings.Index(x, "</metadata>")
	if i < 0 || j < 0 {
		return x
	}
	return x[:i] + x[j+len("</metadata>"):]
}
