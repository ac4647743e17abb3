package apply

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/compiler"
)

// slowHost holds every domain shutdown until the test releases it (by
// the domain's UUID) or the context given to Stop is done, as a guest that
// ignores ACPI does; it counts the shutdowns under way.
type slowHost struct {
	Host
	mu       sync.Mutex
	running  int
	most     int
	started  chan string // the UUID of each shutdown as it begins
	releases map[string]chan struct{}
}

func newSlowHost(h Host) *slowHost {
	return &slowHost{Host: h, started: make(chan string, 16), releases: map[string]chan struct{}{}}
}

func (s *slowHost) Close() error { return nil }

func (s *slowHost) release(uuid string) chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.releases[uuid] == nil {
		s.releases[uuid] = make(chan struct{})
	}
	return s.releases[uuid]
}

func (s *slowHost) Stop(ctx context.Context, k compiler.Kind, uuid string, timeout time.Duration) error {
	if k != compiler.KindDomain {
		return s.Host.Stop(ctx, k, uuid, timeout)
	}
	s.mu.Lock()
	s.running++
	s.most = max(s.most, s.running)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.running--; s.mu.Unlock() }()
	s.started <- uuid
	select {
	case <-s.release(uuid):
		return s.Host.Stop(ctx, k, uuid, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// domains is a configuration of n running test domains d0…d(n-1);
// active: false for those in stopped.
func domains(n int, stopped ...int) string {
	var b strings.Builder
	b.WriteString("domains: {\n")
	for i := range n {
		active := true
		for _, s := range stopped {
			active = active && s != i
		}
		fmt.Fprintf(&b, "d%d: {definition: {type: \"test\", uuid: \"%s\", memory: {count: 64, unit: \"MiB\"}, os: type: \"hvm\"}, active: %v}\n",
			i, domainUUID(i), active)
	}
	b.WriteString("}\n")
	return b.String()
}

func domainUUID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// recorder keeps what apply reported, in order, and signals each outcome.
type recorder struct {
	mu       sync.Mutex
	lines    []string
	waits    map[string]int
	outcomes chan string
}

func newRecorder() *recorder {
	return &recorder{waits: map[string]int{}, outcomes: make(chan string, 16)}
}

func (r *recorder) controls(finish, abandon context.Context) Controls {
	return Controls{Finish: finish, Abandon: abandon,
		Began: func(o Object) { r.add("began " + o.Name) },
		Outcome: func(o Outcome) {
			r.add(OutcomeText(o))
			r.outcomes <- OutcomeText(o)
		},
		Waiting: func(w Waiting) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.waits[w.Name]++
		}}
}

func (r *recorder) add(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, line)
}

func (r *recorder) waited(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waits[name]
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Independent domains shut down at once, each one's outcome is reported
// when its own shutdown ends (not when the run ends), and the waits are
// reported while they last.
func TestShutdownsRunInParallelAndReportAsTheyEnd(t *testing.T) {
	th := newTestHost(t)
	th.apply(domains(2))
	slow := newSlowHost(th.host)
	conn := func(string) (Host, error) { return slow, nil }
	rec := newRecorder()
	done := make(chan *Result)
	go func() {
		done <- ApplyWith(th.wanted(domains(2, 0, 1)), conn, Options{Prune: true, State: th.st}, rec.controls(context.Background(), context.Background()))
	}()
	// Both shutdowns are under way before either ends.
	<-slow.started
	<-slow.started
	waitFor(t, "a report of each wait", func() bool { return rec.waited("d0") > 0 && rec.waited("d1") > 0 })
	close(slow.release(domainUUID(1)))
	if got := <-rec.outcomes; got != "domain/d1 stopped" {
		t.Fatalf("first outcome %q, want domain/d1 stopped while d0 still shuts down", got)
	}
	close(slow.release(domainUUID(0)))
	res := <-done
	if len(res.Failed) > 0 || res.Changed != 2 {
		t.Fatalf("failed %v, changed %d", res.Failed, res.Changed)
	}
	if slow.most != 2 {
		t.Fatalf("%d shutdowns at once, want 2", slow.most)
	}
}

// No more than maxParallelStops domains shut down at once.
func TestShutdownsAreBounded(t *testing.T) {
	th := newTestHost(t)
	n := maxParallelStops + 2
	th.apply(domains(n))
	slow := newSlowHost(th.host)
	conn := func(string) (Host, error) { return slow, nil }
	rec := newRecorder()
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	done := make(chan *Result)
	go func() {
		done <- ApplyWith(th.wanted(domains(n, all...)), conn, Options{Prune: true, State: th.st}, rec.controls(context.Background(), context.Background()))
	}()
	// None ends before the bound is reached; an unbounded run would start
	// the others meanwhile.
	for range maxParallelStops {
		<-slow.started
	}
	time.Sleep(200 * time.Millisecond)
	for i := range n {
		close(slow.release(domainUUID(i)))
	}
	res := <-done
	if len(res.Failed) > 0 || res.Changed != n {
		t.Fatalf("failed %v, changed %d", res.Failed, res.Changed)
	}
	if slow.most != maxParallelStops {
		t.Fatalf("%d shutdowns at once, want the bound, %d", slow.most, maxParallelStops)
	}
}

// A first interrupt during shutdowns finishes the objects begun (their
// shutdowns, then their redefinition and start) and begins no other; the
// domains still queued for a turn are left as they were.
func TestFinishCompletesBegunShutdowns(t *testing.T) {
	th := newTestHost(t)
	n := maxParallelStops + 1
	th.apply(domains(n))
	slow := newSlowHost(th.host)
	conn := func(string) (Host, error) { return slow, nil }
	// Every domain's memory changes: each is redefined and restarted.
	changed := strings.ReplaceAll(domains(n), "count: 64", "count: 128")
	finish, interrupt := context.WithCancel(context.Background())
	rec := newRecorder()
	done := make(chan *Result)
	go func() {
		done <- ApplyWith(th.wanted(changed), conn, Options{Prune: true, State: th.st}, rec.controls(finish, nil))
	}()
	var begun []string
	for range maxParallelStops {
		begun = append(begun, <-slow.started)
	}
	interrupt()
	for _, uuid := range begun {
		close(slow.release(uuid))
	}
	res := <-done
	if len(res.Failed) != 1 || !res.Failed[0].Interrupted || res.Failed[0].Name != fmt.Sprintf("d%d", n-1) {
		t.Fatalf("want only the last domain interrupted, failed %v", res.Failed)
	}
	if res.Changed != maxParallelStops {
		t.Fatalf("changed %d, want %d", res.Changed, maxParallelStops)
	}
	for i := range n {
		d := th.live(compiler.KindDomain, fmt.Sprintf("d%d", i))
		redefined := strings.Contains(d.XML, "131072")
		if !d.Active || redefined != (i < n-1) {
			t.Errorf("d%d: active %v, redefined %v", i, d.Active, redefined)
		}
	}
}

// A second interrupt stops the waits: the domain is left as it was (not
// forced off, not redefined), reported as abandoned, and the next apply
// still plans the change.
func TestAbandonStopsWaiting(t *testing.T) {
	th := newTestHost(t)
	th.apply(domains(1))
	slow := newSlowHost(th.host)
	conn := func(string) (Host, error) { return slow, nil }
	changed := strings.ReplaceAll(domains(1), "count: 64", "count: 128")
	abandon, stopWaiting := context.WithCancel(context.Background())
	rec := newRecorder()
	done := make(chan *Result)
	go func() {
		done <- ApplyWith(th.wanted(changed), conn, Options{Prune: true, State: th.st}, rec.controls(context.Background(), abandon))
	}()
	<-slow.started
	stopWaiting()
	res := <-done
	if len(res.Failed) != 1 || !res.Failed[0].Abandoned {
		t.Fatalf("failed %v", res.Failed)
	}
	if got := <-rec.outcomes; !strings.Contains(got, "domain/d0 interrupted while waiting for a shutdown") {
		t.Fatalf("outcome %q", got)
	}
	if d := th.live(compiler.KindDomain, "d0"); !d.Active || strings.Contains(d.XML, "131072") {
		t.Fatalf("d0 must be left running its old definition: active %v\n%s", d.Active, d.XML)
	}
	if got := actions(th.plan(changed)); got != "domain/d0:redefine domain/d0:restart" {
		t.Fatalf("next plan %q", got)
	}
}

// A connection whose plan is refused at the last moment is left as it is.
func TestRefusedPlanChangesNothing(t *testing.T) {
	th := newTestHost(t)
	th.apply(domains(1))
	changed := strings.ReplaceAll(domains(1), "count: 64", "count: 128")
	rec := newRecorder()
	ctl := rec.controls(context.Background(), context.Background())
	ctl.Approve = func(p *Plan) error { return fmt.Errorf("not what was asked") }
	before := th.host.Writes() // the test host counts since it was opened
	res := ApplyWith(th.wanted(changed), th.connect, Options{Prune: true, State: th.st}, ctl)
	if len(res.Failed) != 1 || !strings.Contains(res.Failed[0].String(), "not what was asked") || res.Writes != before {
		t.Fatalf("failed %v, writes %d", res.Failed, res.Writes-before)
	}
	if d := th.live(compiler.KindDomain, "d0"); strings.Contains(d.XML, "131072") {
		t.Fatal("d0 was redefined")
	}
}
