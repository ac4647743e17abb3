package apply

import (
	"reflect"
	"sync/atomic"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// countingLive is a test-driver host, open across plans, that counts the
// running definitions the plan reads one by one (RunningXML).
type countingLive struct {
	*libvirtHost
	runningReads *atomic.Int64
}

func (countingLive) Close() error { return nil }

func (c countingLive) RunningXML(k compiler.Kind, uuid string) (string, error) {
	c.runningReads.Add(1)
	return c.libvirtHost.RunningXML(k, uuid)
}

// onlyList hides ListWithRunning: the plan lists as with any Host.
type onlyList struct{ countingLive }

func (onlyList) ListWithRunning() {}

// TestListWithRunning: the listing reads the running definition of a
// running domain that carries a mark, with its persistent one, and no
// other's; whether a domain runs comes from its handle, as the list call
// of the active ones said before.
func TestListWithRunning(t *testing.T) {
	th := newTestHost(t)
	th.apply(`domains: {web: {definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}, active: true}
	idle: {definition: {type: "test", memory: {count: 64, unit: "MiB"}, os: type: "hvm"}, active: false}}`)
	h := th.host.(*libvirtHost)
	plain, err := h.List(compiler.KindDomain)
	if err != nil {
		t.Fatal(err)
	}
	withRunning, err := h.ListWithRunning(compiler.KindDomain)
	if err != nil {
		t.Fatal(err)
	}
	active, err := h.listUUIDs(compiler.KindDomain, 1) // VIR_CONNECT_LIST_DOMAINS_ACTIVE
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Live{}
	for i, l := range withRunning {
		byName[l.Name] = l
		if plain[i].Running != "" {
			t.Errorf("List read the running definition of %s", l.Name)
		}
		plain[i].Running = l.Running
		if !reflect.DeepEqual(plain[i], l) {
			t.Errorf("List and ListWithRunning differ beyond Running:\n%+v\n%+v", plain[i], l)
		}
		if l.Active != active[canonicalUUID(l.UUID)] {
			t.Errorf("%s: active %v, the list call of the active ones says %v", l.Name, l.Active, !l.Active)
		}
	}
	webRunning, err := h.RunningXML(compiler.KindDomain, byName["web"].UUID)
	if err != nil {
		t.Fatal(err)
	}
	if l := byName["web"]; !l.Active || l.Running != webRunning {
		t.Errorf("web: active %v, running definition %q, want %q", l.Active, l.Running, webRunning)
	}
	if l := byName["idle"]; l.Active || l.Running != "" {
		t.Errorf("idle (stopped): active %v, running definition %q", l.Active, l.Running)
	}
	// hostXML's "manual" runs without a mark: its running definition is
	// none of the plan's business.
	if l := byName["manual"]; !l.Active || l.Running != "" {
		t.Errorf("manual (not nixvirt's): active %v, running definition %q", l.Active, l.Running)
	}
}

// TestPlanUsesListedRunning: a plan of running domains nixvirt owns
// reads no running definition one by one (the listing brought them), and
// plans what it plans from one read one by one: a pending part included.
func TestPlanUsesListedRunning(t *testing.T) {
	th := newTestHost(t)
	opts := Options{State: th.st}
	th.apply(domainEntry(512, "restart: false"))
	changed := `domains: web: {definition: {type: "test", memory: {count: 1, unit: "GiB"}, os: type: "hvm"}, active: true, restart: false}`
	var reads atomic.Int64
	h := countingLive{th.host.(*libvirtHost), &reads}
	if res := Apply(t.Context(), th.wanted(changed), func(string) (Host, error) { return h, nil }, opts, func(Outcome) {}); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	reads.Store(0)
	listed := MakePlan(th.wanted(changed), func(string) (Host, error) { return h, nil }, opts)
	if n := reads.Load(); n != 0 {
		t.Errorf("the plan read %d running definitions one by one", n)
	}
	oneByOne := MakePlan(th.wanted(changed), func(string) (Host, error) { return onlyList{h}, nil }, opts)
	if n := reads.Load(); n != 1 {
		t.Errorf("without ListWithRunning the plan read %d running definitions, want 1", n)
	}
	if len(listed.Changes) != 1 || len(listed.Changes[0].PendingParts()) == 0 || !reflect.DeepEqual(listed, oneByOne) {
		t.Errorf("plans differ:\n%+v\n%+v", listed.Changes[0], oneByOne.Changes[0])
	}
}
