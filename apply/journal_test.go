package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"nixvirt.dev/nixvirt/compiler"
)

var errKilled = errors.New("killed")

// killedHost is a host whose nixvirt process dies after `after` writes:
// from then on nothing it asks is done, as if it had been killed there
// (the journal keeps what it had written by then).
type killedHost struct {
	Host
	after  int
	writes *int
}

func (k killedHost) Close() error { return nil }

func (k killedHost) alive() bool {
	*k.writes++
	return *k.writes <= k.after
}

func (k killedHost) Define(kind compiler.Kind, xml string) error {
	if !k.alive() {
		return errKilled
	}
	return k.Host.Define(kind, xml)
}

func (k killedHost) Undefine(kind compiler.Kind, uuid string, nvram, tpm bool) error {
	if !k.alive() {
		return errKilled
	}
	return k.Host.Undefine(kind, uuid, nvram, tpm)
}

func (k killedHost) Start(kind compiler.Kind, uuid string) error {
	if !k.alive() {
		return errKilled
	}
	return k.Host.Start(kind, uuid)
}

func (k killedHost) Stop(ctx context.Context, kind compiler.Kind, uuid string, timeout time.Duration) error {
	if !k.alive() {
		return errKilled
	}
	return k.Host.Stop(ctx, kind, uuid, timeout)
}

func (k killedHost) SetAutostart(kind compiler.Kind, uuid string, on bool) error {
	if !k.alive() {
		return errKilled
	}
	return k.Host.SetAutostart(kind, uuid, on)
}

// bystander is a running domain nixvirt does not own, attached to the
// network "lab".
const bystander = `<domain type="test"><name>bystander</name><uuid>33333333-2222-4333-8444-555555555555</uuid>
<memory>65536</memory><os><type>hvm</type></os>
<devices><interface type="network"><source network="lab"/></interface></devices></domain>`

// An apply killed at any point of a restart (of a domain, and of a network
// with a domain attached that nixvirt does not own) is finished by the
// next one: everything that ran runs again, although the entries leave
// active unset, and the plan after that is empty.
func TestKilledApplyConverges(t *testing.T) {
	// web leaves active unset; its memory and the network's MTU change.
	base := strings.Replace(web, "active: true\n\t\tautostart: true", "autostart: true", 1)
	changed := strings.Replace(strings.Replace(base, "count: 256", "count: 512", 1),
		`bridge: name: "virbr-nvt0"}`, `bridge: name: "virbr-nvt0", mtu: size: 9000}`, 1)
	for after := 0; ; after++ {
		th := newTestHost(t)
		th.apply(web)
		if err := th.host.Define(compiler.KindDomain, bystander); err != nil {
			t.Fatal(err)
		}
		if err := th.host.Start(compiler.KindDomain, "33333333-2222-4333-8444-555555555555"); err != nil {
			t.Fatal(err)
		}
		p := th.plan(changed)
		if !strings.Contains(StepReasons(compiler.KindNetwork, p.Changes[0].Actions[1]), `domain "bystander", which this configuration does not own, is stopped and started around it`) {
			t.Fatalf("the plan does not say it stops bystander: %+v", p.Changes[0].Actions)
		}
		for _, u := range p.Unmanaged {
			if u.Name == "bystander" {
				t.Fatal("bystander is listed as left alone")
			}
		}
		writes := 0
		conn := func(uri string) (Host, error) { return killedHost{Host: th.host, after: after, writes: &writes}, nil }
		res := Apply(context.Background(), th.wanted(changed), conn, Options{Prune: true, State: th.st}, func(Outcome) {})
		if writes <= after {
			if len(res.Failed) > 0 {
				t.Fatal(res.Failed)
			}
			break // the apply finished before this kill point
		}
		t.Run(fmt.Sprintf("killed after %d writes", after), func(t *testing.T) {
			th.t = t
			// The plan says what the killed apply left to finish.
			p := th.plan(changed)
			for _, name := range []string{"web", "bystander"} {
				if d := th.live(compiler.KindDomain, name); d.Active {
					continue
				}
				found := false
				for _, c := range p.Changes {
					for _, s := range c.Actions {
						found = found || c.Name == name && s.Action == Start && len(s.Reasons) == 1 && s.Reasons[0].Code == ReasonUnfinished
					}
				}
				if !found {
					t.Errorf("%s is off and the plan does not start it: %s", name, actions(p))
				}
			}
			th.apply(changed)
			for _, name := range []string{"web", "bystander"} {
				if d := th.live(compiler.KindDomain, name); !d.Active {
					t.Errorf("%s is left off", name)
				}
			}
			if n := th.live(compiler.KindNetwork, "lab"); !n.Active {
				t.Error("lab is left off")
			}
			if p := th.plan(changed); p.HasChanges() {
				t.Errorf("not converged: %s", actions(p))
			}
			if j, err := th.st.Unfinished(th.uri); err != nil || len(j) != 0 {
				t.Errorf("journal: %+v %v", j, err)
			}
		})
	}
}

// A define that libvirt refuses puts everything stopped around it back:
// the network and the domains attached to it run again.
func TestRefusedNetworkRedefineRestartsAttachedDomains(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	body := strings.Replace(web, `bridge: name: "virbr-nvt0"}`, `bridge: name: "virbr-nvt0", mtu: size: 9000}`, 1)
	conn := func(uri string) (Host, error) { return faultHost{Host: th.host, failDefine: "lab"}, nil }
	res := Apply(context.Background(), th.wanted(body), conn, Options{Prune: true, State: th.st}, func(Outcome) {})
	if len(res.Failed) != 1 {
		t.Fatalf("failed: %v", res.Failed)
	}
	if d := th.live(compiler.KindDomain, "web"); !d.Active {
		t.Fatal("web was left off")
	}
	if n := th.live(compiler.KindNetwork, "lab"); !n.Active {
		t.Fatal("lab was left off")
	}
	if j, _ := th.st.Unfinished(th.uri); len(j) != 0 {
		t.Fatalf("journal: %+v", j)
	}
}

// A rename that libvirt refuses puts the old definition back and starts
// the domain again.
func TestRefusedRenameRestartsDomain(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	body := strings.Replace(web, "domains: web:", "domains: www:", 1)
	conn := func(uri string) (Host, error) { return faultHost{Host: th.host, failDefine: "www"}, nil }
	res := Apply(context.Background(), th.wanted(body), conn, Options{Prune: true, State: th.st}, func(Outcome) {})
	if len(res.Failed) != 1 {
		t.Fatalf("failed: %v", res.Failed)
	}
	if d := th.live(compiler.KindDomain, "web"); d == nil || !d.Active {
		t.Fatalf("web: %+v", d)
	}
}

// A journal that cannot be read stops plan and apply, naming the file.
func TestCorruptJournalIsAnError(t *testing.T) {
	th := newTestHost(t)
	th.apply(web)
	if err := writeFileAtomic(th.st.file(th.uri, ".journal.json"), []byte("{")); err != nil {
		t.Fatal(err)
	}
	p := th.plan(web)
	if len(p.Errors) != 1 || !strings.Contains(p.Errors[0], ".journal.json is corrupt") {
		t.Fatalf("errors: %v", p.Errors)
	}
}
