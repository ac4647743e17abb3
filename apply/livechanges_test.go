package apply

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/apply/live"
	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// The class of a change decides, with restart: null, whether a running
// object restarts; restart: true and false decide alone.
func TestRestartPolicyClass(t *testing.T) {
	yes, no := true, false
	d, n := compiler.KindDomain, compiler.KindNetwork
	for _, tc := range []struct {
		name string
		f    restartFacts
		want ReasonCode
	}{
		{"live changes", restartFacts{Kind: d, Running: true, Changed: true, Owned: true, Class: live.Live}, ""},
		{"next-boot changes", restartFacts{Kind: d, Running: true, Changed: true, Owned: true, Class: live.NextBoot}, ""},
		{"a restart change", restartFacts{Kind: d, Running: true, Changed: true, Owned: true, Class: live.Restart}, ReasonNeedsRestart},
		{"a network's restart change", restartFacts{Kind: n, Running: true, Changed: true, Owned: true, Class: live.Restart}, ReasonNeedsRestart},
		{"unclassified", restartFacts{Kind: d, Running: true, Changed: true, Owned: true}, ReasonDefinitionChanged},
		{"restart: false and a restart change", restartFacts{Kind: d, Running: true, Changed: true, Owned: true, Restart: &no, Class: live.Restart}, ""},
		{"restart: true and live changes", restartFacts{Kind: d, Running: true, Changed: true, Owned: true, Restart: &yes, Class: live.Live}, ReasonRestartTrue},
		{"a rename of a live change", restartFacts{Kind: d, Running: true, Renamed: true, Changed: true, Owned: true, Class: live.Live}, ReasonRenamed},
	} {
		got, ok := restartPolicy(tc.f)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}

const (
	balloon256 = `<domain type="test"><name>web</name><memory unit="MiB">512</memory><currentMemory unit="MiB">256</currentMemory><os><type>hvm</type></os></domain>`
	balloon512 = `<domain type="test"><name>web</name><memory unit="MiB">512</memory><currentMemory unit="MiB">512</currentMemory><os><type>hvm</type></os></domain>`
)

// Only what nixvirt gave last time, to a running object it owns whose
// entry lets it, is classified; everything else restarts as any change.
func TestClassify(t *testing.T) {
	yes, no := true, false
	base := liveFacts{Kind: compiler.KindDomain, Live: true, Owned: true, Running: true, Previous: balloon512, Wanted: balloon256}
	for _, tc := range []struct {
		name   string
		change func(*liveFacts)
		want   live.Class
	}{
		{"live", func(*liveFacts) {}, live.Live},
		{"restart: false", func(f *liveFacts) { f.Restart = &no }, live.Live},
		{"live: false", func(f *liveFacts) { f.Live = false }, 0},
		{"restart: true", func(f *liveFacts) { f.Restart = &yes }, 0},
		{"taken over", func(f *liveFacts) { f.Owned = false }, 0},
		{"renamed", func(f *liveFacts) { f.Renamed = true }, 0},
		{"stopped", func(f *liveFacts) { f.Running = false }, 0},
		{"no previous definition", func(f *liveFacts) { f.Previous = "" }, 0},
		{"memory", func(f *liveFacts) { f.Wanted = strings.Replace(balloon512, "512", "1024", 1) }, live.Restart},
		{"title and machine", func(f *liveFacts) {
			f.Wanted = strings.Replace(balloon512, "<os><type>", `<title>x</title><os><type machine="q35">`, 1)
		}, live.Restart},
		{"boot order", func(f *liveFacts) {
			f.Wanted = strings.Replace(balloon512, "</type>", `</type><boot dev="hd"/>`, 1)
		}, live.NextBoot},
		{"the mark alone", func(f *liveFacts) {
			f.Wanted = strings.Replace(balloon512, "<os>", `<metadata><nixvirt:managed xmlns:nixvirt="`+markNS+`" hash="x"/></metadata><os>`, 1)
		}, 0},
		{"a network's DHCP host", func(f *liveFacts) {
			f.Kind = compiler.KindNetwork
			f.Previous = `<network><name>n</name><ip address="10.9.0.1" prefix="24"><dhcp><range start="10.9.0.2" end="10.9.0.9"/></dhcp></ip></network>`
			f.Wanted = strings.Replace(f.Previous, "</dhcp>", `<host mac="52:54:00:00:00:01" ip="10.9.0.5"/></dhcp>`, 1)
		}, live.Live},
	} {
		f := base
		tc.change(&f)
		if _, got := classify(f); got != tc.want {
			t.Errorf("%s: class %v, want %v", tc.name, got, tc.want)
		}
	}
}

// livePlanHost is a test-driver host that stays open across plans, with
// the live operations of a libvirt host.
type livePlanHost struct{ *libvirtHost }

func (livePlanHost) Close() error { return nil }

func (th *testHost) liveConnect(uri string) (Host, error) {
	return livePlanHost{th.host.(*libvirtHost)}, nil
}

func domainEntry(currentMiB int, extra string) string {
	return fmt.Sprintf(`domains: web: {definition: {type: "test", memory: {count: 512, unit: "MiB"}, currentMemory: {count: %d, unit: "MiB"}, os: type: "hvm"}, active: true
%s}`, currentMiB, extra)
}

// A running domain's balloon is a live change: planned as a live update
// without a restart. The test driver refuses to set it on the running
// domain and its definition together, so apply falls back to the restart
// policy and says why; then nothing is left.
func TestPlanLiveChangeRefused(t *testing.T) {
	th := newTestHost(t)
	opts := Options{State: th.st}
	th.apply(domainEntry(512, ""))
	p := MakePlan(th.wanted(domainEntry(256, "")), th.liveConnect, opts)
	if got := actions(p); got != "domain/web:redefine domain/web:live-update" {
		t.Fatalf("actions %s", got)
	}
	c := p.Changes[0]
	if len(c.Parts) != 1 || c.Parts[0].Class != live.Live || c.Parts[0].Path != "currentMemory" || c.Parts[0].Op != live.SetMemory || c.Parts[0].Pending {
		t.Fatalf("parts %+v", c.Parts)
	}
	var text bytes.Buffer
	RenderText(&text, p)
	for _, want := range []string{`~ domain "web" will be changed while it runs`, "live      currentMemory (set-memory)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("plan text lacks %q:\n%s", want, text.String())
		}
	}
	var lines []string
	res := Apply(t.Context(), th.wanted(domainEntry(256, "")), th.liveConnect, opts, func(o Outcome) { lines = append(lines, OutcomeText(o)) })
	refusal := "libvirt refused to change currentMemory live: Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive"
	if len(res.Failed) > 0 || strings.Join(lines, "\n") != "domain/web redefined, restarted ("+refusal+")" {
		t.Fatalf("apply: %v %q", res.Failed, lines)
	}
	if p := MakePlan(th.wanted(domainEntry(256, "")), th.liveConnect, opts); p.HasChanges() || len(p.Changes[0].Parts) != 0 {
		t.Fatalf("after apply: %s %+v", actions(p), p.Changes[0].Parts)
	}
	// live: false makes it a change like any other: a restart.
	if got := actions(MakePlan(th.wanted(domainEntry(384, "live: false")), th.liveConnect, opts)); got != "domain/web:redefine domain/web:restart" {
		t.Errorf("live: false: %s", got)
	}
}

// With restart: false, a change that needs a restart is written to the
// definition and shown pending: the running guest differs until it
// restarts, and plan keeps saying so when there is nothing left to apply.
func TestPlanPendingRestartChange(t *testing.T) {
	th := newTestHost(t)
	opts := Options{State: th.st}
	th.apply(domainEntry(512, "restart: false"))
	changed := `domains: web: {definition: {type: "test", memory: {count: 1, unit: "GiB"}, os: type: "hvm"}, active: true, restart: false}`
	p := MakePlan(th.wanted(changed), th.liveConnect, opts)
	if got := actions(p); got != "domain/web:redefine" {
		t.Fatalf("actions %s", got)
	}
	var pending []string
	for _, part := range p.Changes[0].PendingParts() {
		pending = append(pending, part.Class.String()+" "+part.Path)
	}
	if strings.Join(pending, ", ") != "restart memory, restart currentMemory" {
		t.Errorf("pending %v, want the memory as a restart", pending)
	}
	if res := Apply(t.Context(), th.wanted(changed), th.liveConnect, opts, func(Outcome) {}); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	p = MakePlan(th.wanted(changed), th.liveConnect, opts)
	if p.HasChanges() {
		t.Fatalf("after apply: %s", actions(p))
	}
	var text bytes.Buffer
	RenderText(&text, p)
	if !strings.Contains(text.String(), `≠ domain "web" runs with an older definition until it restarts`) ||
		!strings.Contains(text.String(), "restart   memory") {
		t.Errorf("plan text:\n%s", text.String())
	}
	var doc bytes.Buffer
	if err := RenderJSON(&doc, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.String(), `"class": "restart"`) || !strings.Contains(doc.String(), `"pending": true`) {
		t.Errorf("JSON plan:\n%s", doc.String())
	}
}

func networkEntry(hosts string) string {
	return fmt.Sprintf(`networks: lab: {definition: {bridge: name: "virbr-lab", ip: {address: "10.9.0.1", prefix: 24, dhcp: {range: {start: "10.9.0.2", end: "10.9.0.9"}, %s}}}, active: true}`, hosts)
}

// A DHCP host added to a running network is a live update
// (virNetworkUpdate), which the test driver makes; the network does not
// restart.
func TestPlanLiveNetwork(t *testing.T) {
	th := newTestHost(t)
	opts := Options{State: th.st}
	th.apply(networkEntry(""))
	withHost := networkEntry(`host: {mac: "52:54:00:00:00:07", ip: "10.9.0.7"}`)
	p := MakePlan(th.wanted(withHost), th.liveConnect, opts)
	if got := actions(p); got != "network/lab:redefine network/lab:live-update" {
		t.Fatalf("actions %s", got)
	}
	if parts := p.Changes[0].Parts; len(parts) != 1 || parts[0].Path != "ip[0].dhcp.host[52:54:00:00:00:07]" || parts[0].Op != live.UpdateNetwork {
		t.Fatalf("parts %+v", parts)
	}
	var lines []string
	res := Apply(t.Context(), th.wanted(withHost), th.liveConnect, opts, func(o Outcome) { lines = append(lines, OutcomeText(o)) })
	if len(res.Failed) > 0 || strings.Join(lines, "\n") != "network/lab changed live, redefined" {
		t.Fatalf("apply: %v %q", res.Failed, lines)
	}
	// (The test driver reads a running network's persistent definition
	// as the running one, so a plan after this is not meaningful here;
	// the end-to-end test checks it on QEMU.)
	got := th.live(compiler.KindNetwork, "lab")
	if !strings.Contains(got.XML, "52:54:00:00:00:07") {
		t.Errorf("the network lacks the DHCP host:\n%s", got.XML)
	}
}

// With restart: false, a refused live change is written to the definition
// only, and apply says so.
func TestApplyLiveRefusedRestartFalse(t *testing.T) {
	th := newTestHost(t)
	opts := Options{State: th.st}
	th.apply(domainEntry(512, "restart: false"))
	var lines []string
	res := Apply(t.Context(), th.wanted(domainEntry(256, "restart: false")), th.liveConnect, opts, func(o Outcome) { lines = append(lines, OutcomeText(o)) })
	if len(res.Failed) > 0 || !strings.HasPrefix(strings.Join(lines, "\n"), "domain/web not changed live (libvirt refused to change currentMemory live: ") ||
		!strings.HasSuffix(lines[0], "), redefined") {
		t.Fatalf("apply: %v %q", res.Failed, lines)
	}
}

// What libvirt reports only about a running domain is no pending change;
// a boot order that differs is.
func TestWithoutRunState(t *testing.T) {
	persistent := `<domain type='qemu'><name>g</name><memory unit='KiB'>262144</memory>
  <vcpu placement='static' current='1'>2</vcpu><os><type>hvm</type><boot dev='hd'/></os>
  <devices>
    <disk type='file' device='cdrom'><source file='/i/one.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:53:07:01'/><source network='n'/><model type='virtio'/></interface>
    <graphics type='vnc' port='-1' autoport='yes'/>
  </devices></domain>`
	running := `<domain type='qemu' id='7'><name>g</name><memory unit='KiB'>262144</memory>
  <vcpu placement='static' current='1'>2</vcpu><vcpus><vcpu id='0' enabled='yes' hotpluggable='no' order='1'/><vcpu id='1' enabled='no' hotpluggable='yes'/></vcpus>
  <resource><partition>/machine</partition></resource><os><type>hvm</type>%s</os>
  <devices>
    <disk type='file' device='cdrom'><source file='/i/one.iso' index='1'/><backingStore/><target dev='hdc' bus='ide'/><readonly/><alias name='ide0-1-0'/></disk>
    <interface type='network'><mac address='52:54:00:53:07:01'/><source network='n' portid='8a83b0d5-3d86-401b-8aa9-8db50579ac5d' bridge='virbr9'/><target dev='vnet3'/><model type='virtio'/><alias name='net0'/></interface>
    <graphics type='vnc' port='5900' autoport='yes'/>
  </devices><seclabel type='dynamic' model='dac' relabel='yes'/></domain>`
	for _, tc := range []struct {
		boot, want string
	}{
		{"<boot dev='hd'/>", ""},
		{"<boot dev='cdrom'/>", "os.boot"},
	} {
		r, err1 := xmldoc.Parse([]byte(fmt.Sprintf(running, tc.boot)))
		p, err2 := xmldoc.Parse([]byte(persistent))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		withoutRunState(compiler.KindDomain, r, p, "0-3")
		cs, err := treeDifferences(compiler.KindDomain, r, p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cs {
			got = append(got, c.Path)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("running with %s: differences %v, want %q", tc.boot, cs, tc.want)
		}
	}
}

// stopTimeouts is a test-driver host that records the shutdown timeout
// each domain is stopped with.
type stopTimeouts struct {
	keepOpen
	got map[string]time.Duration
}

func (s stopTimeouts) Stop(ctx context.Context, k compiler.Kind, uuid string, timeout time.Duration) error {
	if k == compiler.KindDomain {
		s.got[uuid] = timeout
	}
	return s.Host.Stop(ctx, k, uuid, timeout)
}

// A network restart names a running domain attached to it that this
// configuration does not own, and stops it with the connection's
// shutdownTimeout, as it does the ones it owns (the host double cannot
// re-attach interfaces, so they are stopped and started around it).
func TestNetworkRestartStopsUnownedDomainWithConnectionTimeout(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	if err := th.host.Define(compiler.KindDomain, bystander); err != nil {
		t.Fatal(err)
	}
	if err := th.host.Start(compiler.KindDomain, "33333333-2222-4333-8444-555555555555"); err != nil {
		t.Fatal(err)
	}
	changed := "shutdownTimeout: 7\n" + strings.Replace(web, `bridge: name: "virbr-nvt0"}`, `bridge: name: "virbr-nvt0", mtu: size: 9000}`, 1)
	p := th.plan(changed)
	if why := StepReasons(compiler.KindNetwork, p.Changes[0].Actions[1]); !strings.Contains(why, `domain "bystander", which this configuration does not own, is stopped and started around it`) {
		t.Fatalf("network restart: %s", why)
	}
	stops := stopTimeouts{keepOpen{th.host}, map[string]time.Duration{}}
	res := Apply(t.Context(), th.wanted(changed), func(string) (Host, error) { return stops, nil }, Options{Prune: true, State: th.st}, func(Outcome) {})
	if len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	if got := stops.got["33333333-2222-4333-8444-555555555555"]; got != 7*time.Second {
		t.Errorf("bystander stopped with %v, want the connection's 7s (all stops: %v)", got, stops.got)
	}
	if d := th.live(compiler.KindDomain, "bystander"); d == nil || !d.Active {
		t.Errorf("bystander after apply: %+v", d)
	}
}

// reattaches is a test-driver host that re-attaches interfaces, or fails
// to with refuse.
type reattaches struct {
	keepOpen
	refuse error
	calls  *[]string
	// stops are the domains stopped.
	stops *[]string
}

func (r reattaches) Stop(ctx context.Context, k compiler.Kind, uuid string, timeout time.Duration) error {
	if k == compiler.KindDomain {
		*r.stops = append(*r.stops, uuid)
	}
	return r.Host.Stop(ctx, k, uuid, timeout)
}

func (r reattaches) Reattach(domainUUID, network, bridge string) error {
	*r.calls = append(*r.calls, domainUUID+" "+network+" "+bridge)
	return r.refuse
}

// A network restart keeps its running domains running and re-attaches
// their interfaces after it, which plan says beforehand and apply
// after; a domain whose interfaces cannot be re-attached is stopped and
// started instead, with the reason.
func TestNetworkRestartReattaches(t *testing.T) {
	changed := strings.Replace(web, `bridge: name: "virbr-nvt0"}`, `bridge: name: "virbr-nvt0", mtu: size: 9000}`, 1)
	for _, tc := range []struct {
		name    string
		refuse  error
		said    string
		stopped bool
	}{
		{"re-attached", nil, `network/lab redefined, restarted, domain "web" kept running, its interfaces re-attached`, false},
		{"not released", fmt.Errorf("the guest did not release interface 52:54:00:0b:82:b2"),
			`network/lab redefined, restarted, domain "web" stopped and started: the guest did not release interface 52:54:00:0b:82:b2`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := newTestHost(t)
			th.apply(web)
			var calls, stops []string
			th.wrap = func(h Host) Host { return reattaches{keepOpen{h}, tc.refuse, &calls, &stops} }
			p := th.plan(changed)
			if why := StepReasons(compiler.KindNetwork, p.Changes[0].Actions[1]); !strings.Contains(why, `domain "web" keeps running; its interfaces are re-attached after it`) {
				t.Fatalf("network restart: %s", why)
			}
			_, lines := th.apply(changed)
			if got := strings.Join(lines, "\n"); got != tc.said {
				t.Errorf("apply said:\n%s\nwant:\n%s", got, tc.said)
			}
			if len(calls) != 1 || calls[0] != "c7a5fdbd-cdaf-9455-926a-d65c16db1809 lab virbr-nvt0" {
				t.Errorf("re-attach calls %q", calls)
			}
			if (len(stops) > 0) != tc.stopped {
				t.Errorf("domains stopped: %q, want web stopped: %v", stops, tc.stopped)
			}
			if d := th.live(compiler.KindDomain, "web"); d == nil || !d.Active {
				t.Errorf("web after apply: %+v", d)
			}
		})
	}
}

// The iothread ids libvirt writes into a running definition after an
// I/O thread is pinned are those of its count: no pending difference.
func TestDefaultIOThreadIDs(t *testing.T) {
	for _, tc := range []struct {
		xml  string
		want bool
	}{
		{`<domain><iothreads>2</iothreads><iothreadids><iothread id="1"/><iothread id="2"/></iothreadids></domain>`, true},
		{`<domain><iothreads>2</iothreads><iothreadids><iothread id="1"/><iothread id="3"/></iothreadids></domain>`, false},
		{`<domain><iothreads>1</iothreads><iothreadids><iothread id="1" thread_pool_max="4"/></iothreadids></domain>`, false},
		{`<domain><iothreads>2</iothreads><iothreadids><iothread id="1"/></iothreadids></domain>`, false},
		{`<domain><iothreads>1</iothreads></domain>`, false},
	} {
		d, err := xmldoc.Parse([]byte(tc.xml))
		if err != nil {
			t.Fatal(err)
		}
		if got := defaultIOThreadIDs(d); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.xml, got, tc.want)
		}
	}
}

// A pin taken out live leaves the running guest pinned where an unpinned
// thread runs: no pending difference. Any other pin the persistent
// definition lacks is one.
func TestWithoutUnpinnedPins(t *testing.T) {
	for _, tc := range []struct {
		running, persistent, want string
	}{
		{`<domain><cputune><vcpupin vcpu="0" cpuset="0-3"/><emulatorpin cpuset="0-3"/><iothreadpin iothread="1" cpuset="0-3"/></cputune></domain>`,
			`<domain/>`, `<domain><cputune/></domain>`},
		{`<domain><cputune><vcpupin vcpu="0" cpuset="0-3"/><vcpupin vcpu="1" cpuset="2"/></cputune></domain>`,
			`<domain><cputune><vcpupin vcpu="0" cpuset="0-3"/></cputune></domain>`,
			`<domain><cputune><vcpupin vcpu="0" cpuset="0-3"/><vcpupin vcpu="1" cpuset="2"/></cputune></domain>`},
		{`<domain><vcpu cpuset="2-3">2</vcpu><cputune><vcpupin vcpu="0" cpuset="2-3"/><vcpupin vcpu="1" cpuset="0-3"/></cputune></domain>`,
			`<domain><vcpu cpuset="2-3">2</vcpu></domain>`,
			`<domain><vcpu cpuset="2-3">2</vcpu><cputune><vcpupin vcpu="1" cpuset="0-3"/></cputune></domain>`},
	} {
		r, err1 := xmldoc.Parse([]byte(tc.running))
		p, err2 := xmldoc.Parse([]byte(tc.persistent))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		withoutUnpinnedPins(r, p, "0-3")
		want, err := xmldoc.Parse([]byte(tc.want))
		if err != nil {
			t.Fatal(err)
		}
		if r.Render() != want.Render() {
			t.Errorf("%s: got\n%s\nwant\n%s", tc.running, r.Render(), want.Render())
		}
	}
}
