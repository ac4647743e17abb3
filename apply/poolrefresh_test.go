package apply

import (
	"bytes"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/apply/live"
)

// A running pool whose autostart changes gets the flag only: it is not
// stopped, redefined or refreshed, and keeps running.
func TestPoolAutostartKeepsItRunning(t *testing.T) {
	th := newTestHost(t)
	th.apply(poolWith(`"data.img": definition: capacity: {count: 1, unit: "MiB"}`))
	on := strings.Replace(poolWith(`"data.img": definition: capacity: {count: 1, unit: "MiB"}`), "active: true", "active: true\n\t\tautostart: true", 1)
	if got := actions(th.plan(on)); got != "pool/store:autostart" {
		t.Fatalf("plan: %s", got)
	}
	_, lines := th.apply(on)
	if got := strings.Join(lines, "\n"); got != "pool/store autostart true" {
		t.Errorf("apply said:\n%s", got)
	}
	if l := th.live("pool", "store"); l == nil || !l.Active || !l.Autostart {
		t.Errorf("pool after apply: %+v", l)
	}
	if got := actions(th.plan(on)); got != "" {
		t.Errorf("second plan: %s", got)
	}
}

// A running pool with volumes to create is refreshed first, not
// restarted: the plan says so before the volumes, the refresh is no
// change of its own in the summary, and apply refreshes it and creates
// what is still missing.
func TestPoolRefreshedBeforeMissingVolumes(t *testing.T) {
	th := newTestHost(t)
	th.apply(poolWith(`"a.img": definition: capacity: {count: 1, unit: "MiB"}`))
	two := poolWith(`"a.img": definition: capacity: {count: 1, unit: "MiB"}
		"b.img": definition: capacity: {count: 1, unit: "MiB"}`)
	p := th.plan(two)
	if got := actions(p); got != "pool/store:refresh-pool pool/store:create-volume:b.img" {
		t.Fatalf("plan: %s", got)
	}
	if add, change, destroy := p.Counts(); add != 1 || change != 0 || destroy != 0 {
		t.Errorf("summary %d/%d/%d, want 1 to add", add, change, destroy)
	}
	var text bytes.Buffer
	RenderText(&text, p)
	if !strings.Contains(text.String(), `~ pool "store" will be refreshed (its volumes rescanned; it keeps running)`) ||
		!strings.Contains(text.String(), "# (before its missing volumes are created: libvirt lists the volumes it last scanned") {
		t.Errorf("plan:\n%s", text.String())
	}
	_, lines := th.apply(two)
	if got := strings.Join(lines, "\n"); got != "pool/store refreshed, volume b.img created" {
		t.Errorf("apply said:\n%s", got)
	}
	if l := th.live("pool", "store"); l == nil || !l.Active {
		t.Errorf("pool after apply: %+v", l)
	}
	if got := actions(th.plan(two)); got != "" {
		t.Errorf("second plan: %s", got)
	}
	// Nothing to create: no refresh either.
	if got := actions(th.plan(poolWith(`"a.img": definition: capacity: {count: 2, unit: "MiB"}`))); got != "pool/store:grow-volume:a.img" {
		t.Errorf("plan of a grown volume: %s", got)
	}
}

// refreshFinds is a test-driver host whose pool refresh finds a volume
// put in the pool outside libvirt (created here, as a file copied into a
// dir pool's directory would be found).
type refreshFinds struct {
	keepOpen
	volumeXML string
	refreshed *int
}

func (r refreshFinds) RefreshPool(pool string) error {
	*r.refreshed++
	return r.Host.CreateVolume(pool, r.volumeXML)
}

// A volume the refresh finds is kept as it is, never created over, and
// apply says so.
func TestPoolRefreshFindsVolume(t *testing.T) {
	th := newTestHost(t)
	th.apply(poolWith(`"a.img": definition: capacity: {count: 1, unit: "MiB"}`))
	refreshed := 0
	th.wrap = func(h Host) Host {
		return refreshFinds{keepOpen{h}, "<volume><name>b.img</name><capacity unit='MiB'>3</capacity></volume>", &refreshed}
	}
	two := poolWith(`"a.img": definition: capacity: {count: 1, unit: "MiB"}
		"b.img": definition: capacity: {count: 1, unit: "MiB"}`)
	_, lines := th.apply(two)
	if got := strings.Join(lines, "\n"); refreshed != 1 || got != "pool/store refreshed, volume b.img found when the pool was listed again; kept as it is" {
		t.Errorf("%d refreshes; apply said:\n%s", refreshed, got)
	}
	vols, err := th.host.Volumes("store")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vols {
		if v.Name == "b.img" && volumeCapacity(v.XML) != 3<<20 {
			t.Errorf("b.img was created over: %s", v.XML)
		}
	}
}

// A running pool whose definition changes is redefined, not restarted:
// the plan says the pool reads it when it next starts (the test driver
// keeps no persistent definition of a running pool apart, so what plan
// says after apply is tested end to end); restart: true restarts it.
func TestRunningPoolDefinitionWaitsForItsStart(t *testing.T) {
	th := newTestHost(t)
	th.apply(poolWith(""))
	moved := strings.Replace(poolWith(""), "/var/lib/nvt-store", "/var/lib/nvt-moved", 1)
	p := th.plan(moved)
	if got := actions(p); got != "pool/store:redefine" {
		t.Fatalf("plan: %s", got)
	}
	if parts := p.Changes[0].Parts; len(parts) != 1 || parts[0].Class != live.NextBoot || parts[0].Path != "pool" || !parts[0].Pending {
		t.Fatalf("parts %+v", parts)
	}
	var text bytes.Buffer
	RenderText(&text, p)
	if !strings.Contains(text.String(), "next boot pool: libvirt reads a pool's definition when the pool starts; nixvirt restarts a running pool only with restart: true; the running pool differs until it restarts") {
		t.Errorf("plan:\n%s", text.String())
	}
	restart := strings.Replace(moved, "active: true", "active: true\n\t\trestart: true", 1)
	p = th.plan(restart)
	if got := actions(p); got != "pool/store:redefine pool/store:restart" || len(p.Changes[0].Parts) != 0 {
		t.Errorf("restart: true: %s %+v", got, p.Changes[0].Parts)
	}
}
