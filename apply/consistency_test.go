package apply

import (
	"context"
	"strings"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/compiler"
)

// A stopped pool with volumes and active: false is planned as it is
// applied: no volumes to create (a stopped pool lists none, and apply
// does not start it), nothing to do, and every apply succeeds.
func TestStoppedPoolWithVolumesStaysConsistent(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	stopped := strings.Replace(web, "target: path: \"/var/lib/nvt\"}\n\t\tactive: true", "target: path: \"/var/lib/nvt\"}\n\t\tactive: false", 1)
	if stopped == web {
		t.Fatal("the pool's active: true was not replaced")
	}
	if got, want := actions(th.plan(stopped)), "pool/vms:stop"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	th.apply(stopped)
	p := th.plan(stopped)
	if p.HasChanges() || p.Problems() != 0 {
		t.Fatalf("after stopping the pool: %s", actions(p))
	}
	before := th.host.Writes()
	th.apply(stopped) // fails the test if anything fails
	if th.host.Writes() != before {
		t.Fatalf("%d writes", th.host.Writes()-before)
	}
}

// A pool the admin stopped, whose entry leaves active unset, stays
// stopped: plan does not claim its volumes are missing nor start it.
func TestPoolStoppedByAdminIsLeftStopped(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	unset := strings.Replace(web, "target: path: \"/var/lib/nvt\"}\n\t\tactive: true", "target: path: \"/var/lib/nvt\"}", 1)
	th.apply(unset)
	if err := th.host.Stop(context.Background(), compiler.KindPool, th.live(compiler.KindPool, "vms").UUID, time.Second); err != nil {
		t.Fatal(err)
	}
	if p := th.plan(unset); p.HasChanges() || p.Problems() != 0 {
		t.Fatalf("plan: %s", actions(p))
	}
	th.apply(unset)
	if th.live(compiler.KindPool, "vms").Active {
		t.Fatal("apply started a pool the admin stopped")
	}
	// active: true starts it, and its volumes are created only if missing.
	p := th.plan(web)
	if got, want := actions(p), "pool/vms:start pool/vms:create-volume:web.img"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if s := p.Changes[1].Actions[1]; s.Reasons[0].Code != ReasonPoolStopped {
		t.Fatalf("reason: %+v", s)
	}
	res, lines := th.apply(web)
	if strings.Contains(strings.Join(lines, "\n"), "volume web.img created") {
		t.Fatalf("an existing volume was created again: %q %+v", lines, res)
	}
}

// A domain whose UUID changed in the configuration cannot be planned (its
// name is taken by the old one); the old one is not also deleted.
func TestChangedUUIDIsOnlyAProblem(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	body := strings.Replace(web, "c7a5fdbd-cdaf-9455-926a-d65c16db1809", "c7a5fdbd-cdaf-9455-926a-d65c16db1800", 1)
	p := th.plan(body)
	if got, want := actions(p), "domain/web:error"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if p.Problems() != 1 {
		t.Fatalf("problems: %d", p.Problems())
	}
	res := Apply(context.Background(), th.wanted(body), th.connect, Options{Prune: true, State: th.st}, func(Outcome) {})
	if len(res.Failed) != 1 || th.live(compiler.KindDomain, "web") == nil {
		t.Fatalf("failed %v; web deleted: %v", res.Failed, th.live(compiler.KindDomain, "web") == nil)
	}
}
