package apply

import (
	"os"
	"strings"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/apply/live"
	"nixvirt.dev/nixvirt/compiler"
)

// redefineOutside changes a live definition as virsh edit would: the mark
// stays, the definition changes.
func (th *testHost) redefineOutside(k compiler.Kind, name, old, new string) {
	th.t.Helper()
	l := th.live(k, name)
	x := strings.Replace(l.XML, old, new, 1)
	if x == l.XML {
		th.t.Fatalf("%s %s has no %q", k, name, old)
	}
	if err := th.host.Define(k, x); err != nil {
		th.t.Fatal(err)
	}
}

// A domain edited outside nixvirt (its memory) is drift: plan redefines
// and restarts it with a diff from what libvirt has to what nixvirt left,
// apply puts the configuration's definition back, and then nothing is
// left to do.
func TestDriftedDomainIsPutBack(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	th.redefineOutside(compiler.KindDomain, "web", "<memory unit='KiB'>262144</memory>", "<memory unit='KiB'>524288</memory>")
	p := th.plan(web)
	if got, want := actions(p), "domain/web:redefine domain/web:restart"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	c := p.Changes[2]
	if c.Actions[0].Reasons[0].Code != ReasonDrifted || c.Actions[1].Reasons[0].Code != ReasonDrifted {
		t.Fatalf("reasons: %+v", c.Actions)
	}
	if !strings.Contains(c.Diff, "-  <memory unit=\"KiB\">524288</memory>\n+  <memory unit=\"KiB\">262144</memory>") {
		t.Fatalf("diff:\n%s", c.Diff)
	}
	var text strings.Builder
	RenderText(&text, p)
	if !strings.Contains(text.String(), "(its definition was changed outside nixvirt since nixvirt defined it; the configuration's is put back)") {
		t.Fatalf("text:\n%s", text.String())
	}
	var doc strings.Builder
	if err := RenderJSON(&doc, p); err != nil || !strings.Contains(doc.String(), `"code": "drifted"`) {
		t.Fatalf("json: %v\n%s", err, doc.String())
	}
	th.apply(web)
	if d := th.live(compiler.KindDomain, "web"); !strings.Contains(d.XML, "262144") || !d.Active {
		t.Fatalf("web was not put back:\n%s", d.XML)
	}
	before := th.host.Writes()
	if res, _ := th.apply(web); res.Changed != 0 || th.host.Writes() != before {
		t.Fatalf("second apply: %+v, %d writes", res, th.host.Writes()-before)
	}
}

// restart: false keeps a drifted domain running; only its definition is
// put back.
func TestDriftFollowsRestartPolicy(t *testing.T) {
	th := newTestHost(t)
	body := strings.Replace(web, "autostart: true", "autostart: true\n\t\trestart: false", 1)
	th.apply(body)
	th.redefineOutside(compiler.KindDomain, "web", "<memory unit='KiB'>262144</memory>", "<memory unit='KiB'>524288</memory>")
	if got, want := actions(th.plan(body)), "domain/web:redefine"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// Objects nixvirt defined before it kept records (or with the records
// lost) plan nothing and make no libvirt write; the next apply records
// them, and drift after that is seen.
func TestDriftRecordIsMadeForOlderObjects(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	if err := os.Remove(th.st.file(th.uri, ".defined.json")); err != nil {
		t.Fatal(err)
	}
	th.st = OpenState(th.st.dir)
	if p := th.plan(web); p.HasChanges() {
		t.Fatalf("plan: %s", actions(p))
	}
	before := th.host.Writes()
	th.apply(web)
	if th.host.Writes() != before {
		t.Fatalf("%d writes", th.host.Writes()-before)
	}
	th.st = OpenState(th.st.dir)
	th.redefineOutside(compiler.KindDomain, "web", "<memory unit='KiB'>262144</memory>", "<memory unit='KiB'>524288</memory>")
	if got, want := actions(th.plan(web)), "domain/web:redefine domain/web:restart"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// Drift that only the persistent definition has (virsh edit of a running
// domain) is put back without a restart: the running guest never had it.
// Drift the running guest has too (it was restarted since) restarts it
// as before, with the difference shown.
func TestRunningDriftRestartsOnlyWhenTheGuestHasIt(t *testing.T) {
	th := newTestHost(t)
	opts := Options{Prune: true, State: th.st}
	th.apply(web)
	th.redefineOutside(compiler.KindDomain, "web", "<memory unit='KiB'>262144</memory>", "<memory unit='KiB'>524288</memory>")
	p := MakePlan(th.wanted(web), th.liveConnect, opts)
	if got, want := actions(p), "domain/web:redefine"; got != want {
		t.Fatalf("persistent drift: got %q, want %q", got, want)
	}
	var lines []string
	res := Apply(t.Context(), th.wanted(web), th.liveConnect, opts, func(o Outcome) { lines = append(lines, OutcomeText(o)) })
	if len(res.Failed) > 0 || strings.Join(lines, "\n") != "domain/web redefined" {
		t.Fatalf("apply: %v %q", res.Failed, lines)
	}
	if p := MakePlan(th.wanted(web), th.liveConnect, opts); p.HasChanges() || len(p.Changes[2].Parts) != 0 {
		t.Fatalf("after apply: %s %+v", actions(p), p.Changes[2].Parts)
	}

	th.redefineOutside(compiler.KindDomain, "web", "<memory unit='KiB'>262144</memory>", "<memory unit='KiB'>524288</memory>")
	l := th.live(compiler.KindDomain, "web")
	if err := th.host.Stop(t.Context(), compiler.KindDomain, l.UUID, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := th.host.Start(compiler.KindDomain, l.UUID); err != nil {
		t.Fatal(err)
	}
	p = MakePlan(th.wanted(web), th.liveConnect, opts)
	if got, want := actions(p), "domain/web:redefine domain/web:restart"; got != want {
		t.Fatalf("drift the guest runs with: got %q, want %q", got, want)
	}
	if c := p.Changes[2]; c.Actions[1].Reasons[0].Code != ReasonDrifted || len(c.Parts) != 1 || c.Parts[0].Path != "memory" || c.Parts[0].Class != live.Restart {
		t.Fatalf("restart %+v, parts %+v", c.Actions[1], c.Parts)
	}
}

// What libvirt adds to a pool when it starts (its directory's
// permissions) is no drift, whatever the indentation around it; a
// changed value is.
func TestPoolOnlyAdds(t *testing.T) {
	recorded := storedForm(compiler.KindPool, `<pool type="dir"><name>n</name><source/><target><path>/tmp/x</path></target></pool>`)
	started := storedForm(compiler.KindPool, `<pool type='dir'><name>n</name><capacity unit='bytes'>1</capacity><source>
  </source><target><path>/tmp/x</path><permissions><mode>0755</mode><owner>0</owner></permissions></target></pool>`)
	if !onlyAdds(started, recorded) {
		t.Errorf("the permissions libvirt adds are drift:\n%s\n%s", started, recorded)
	}
	if moved := strings.Replace(started, "/tmp/x", "/tmp/y", 1); onlyAdds(moved, recorded) {
		t.Errorf("another path is not drift:\n%s", moved)
	}
}
