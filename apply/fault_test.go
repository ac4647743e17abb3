package apply

import (
	"context"
	"errors"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// faultHost fails Define for one name, or calls onWrite after each write.
type faultHost struct {
	Host
	failDefine string
	onWrite    func()
}

func (f faultHost) Close() error { return nil }

func (f faultHost) Define(k compiler.Kind, xml string) error {
	if f.failDefine != "" && strings.Contains(xml, "<name>"+f.failDefine+"</name>") {
		return errors.New("injected libvirt error")
	}
	err := f.Host.Define(k, xml)
	if f.onWrite != nil {
		f.onWrite()
	}
	return err
}

// A redefine that libvirt refuses leaves the running domain as it was:
// still running, with its old definition.
func TestFailedRedefineLeavesDomainAsItWas(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	body := strings.Replace(web, "count: 256", "count: 512", 1)
	conn := func(uri string) (Host, error) { return faultHost{Host: th.host, failDefine: "web"}, nil }
	res := Apply(context.Background(), th.wanted(body), conn, Options{Prune: true, State: th.st}, func(Outcome) {})
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].String(), "injected libvirt error") {
		t.Fatalf("failed: %v", res.Failed)
	}
	d := th.live(compiler.KindDomain, "web")
	if !d.Active || strings.Contains(d.XML, "524288") {
		t.Fatalf("web must run with its old definition: active=%v\n%s", d.Active, d.XML)
	}
	// The next plan still wants the change.
	if got := actions(th.plan(body)); got != "domain/web:redefine domain/web:restart" {
		t.Fatalf("got %q", got)
	}
}

// An interrupt finishes the object apply has begun and leaves the others
// as they were.
func TestInterruptFinishesBegunObjects(t *testing.T) {
	th := newTestHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	conn := func(uri string) (Host, error) { return faultHost{Host: th.host, onWrite: cancel}, nil }
	var lines []string
	res := Apply(ctx, th.wanted(web), conn, Options{Prune: true, State: th.st}, func(o Outcome) { lines = append(lines, OutcomeText(o)) })
	// The network was begun (defined, then the interrupt came): it is
	// finished, started as configured. The pool and domain are untouched.
	if n := th.live(compiler.KindNetwork, "lab"); n == nil || !n.Active {
		t.Fatalf("network: %+v", n)
	}
	if th.live(compiler.KindPool, "vms") != nil || th.live(compiler.KindDomain, "web") != nil {
		t.Fatal("objects after the interrupt were changed")
	}
	if len(res.Failed) != 2 || !strings.Contains(strings.Join(lines, "\n"), "domain/web not changed: interrupted") {
		t.Fatalf("failed %v, lines %q", res.Failed, lines)
	}
	// Running again completes the configuration.
	if res := Apply(context.Background(), th.wanted(web), th.connect, Options{Prune: true, State: th.st}, func(Outcome) {}); len(res.Failed) != 0 {
		t.Fatal(res.Failed)
	}
	if p := th.plan(web); p.HasChanges() {
		t.Fatalf("not converged: %s", actions(p))
	}
}
