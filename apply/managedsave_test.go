package apply

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/apply/live"
	"nixvirt.dev/nixvirt/compiler"
)

// savedWeb is webOnly with memory and the restart policy given.
func savedWeb(memoryMiB int, restart string) string {
	return strings.Replace(strings.Replace(webOnly, "count: 256", "count: "+strconv.Itoa(memoryMiB), 1), "active: true", "active: true\n\t\trestart: "+restart, 1)
}

// A domain with a managed save image resumes from it with the definition
// it was saved with, whatever its definition says now. A change that
// would restart a running guest restarts the resumed one (restart:
// null); with restart: false the change waits, shown as pending; and a
// domain apply does not start is told what happens when it is started.
func TestSavedGuestRestartsAfterResuming(t *testing.T) {
	th := newTestHost(t)
	th.apply(savedWeb(256, "null"))
	th.managedSave("web")

	p := th.plan(savedWeb(512, "null"))
	if got := actions(p); got != "domain/web:redefine domain/web:start domain/web:restart-resumed" {
		t.Fatalf("plan: %s", got)
	}
	c := p.Changes[0]
	if len(c.Parts) != 2 || c.Parts[0].Path != "memory" || c.Parts[0].Class != live.Restart || c.Parts[0].Pending {
		t.Errorf("parts %+v", c.Parts)
	}
	var text bytes.Buffer
	RenderText(&text, p)
	for _, want := range []string{
		`▶ domain "web" will be started`,
		"# (active: true; it resumes from its managed save image, with the definition it was saved with)",
		`↻ domain "web" will restart once it has resumed, to take its new definition`,
		"# (because a change needs it (see restart below))",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("plan lacks %q:\n%s", want, text.String())
		}
	}
	var doc strings.Builder
	if err := RenderJSON(&doc, p); err != nil || !strings.Contains(doc.String(), `"action": "restart-resumed"`) || !strings.Contains(doc.String(), `"code": "resumes-saved"`) {
		t.Errorf("json: %v\n%s", err, doc.String())
	}
	_, lines := th.apply(savedWeb(512, "null"))
	if got := strings.Join(lines, "\n"); got != "domain/web redefined, started, restarted after it resumed, with its new definition" {
		t.Errorf("apply said:\n%s", got)
	}
	if d := th.live(compiler.KindDomain, "web"); d == nil || !d.Active {
		t.Fatalf("web after apply: %+v", d)
	}
	if has, err := th.host.HasManagedSave("c7a5fdbd-cdaf-9455-926a-d65c16db1809"); err != nil || has {
		t.Errorf("managed save image after the start: %v %v", has, err)
	}
	if got := actions(th.plan(savedWeb(512, "null"))); got != "" {
		t.Errorf("second plan: %s", got)
	}

	// restart: false: resumed, the change waits.
	th.managedSave("web")
	p = th.plan(savedWeb(256, "false"))
	if got := actions(p); got != "domain/web:redefine domain/web:start" {
		t.Fatalf("plan with restart: false: %s", got)
	}
	if parts := p.Changes[0].Parts; len(parts) != 2 || !parts[0].Pending || !parts[1].Pending {
		t.Errorf("parts with restart: false %+v", parts)
	}

	// Not started by apply (active: null): the redefine says what a start
	// will do.
	body := strings.Replace(savedWeb(384, "null"), "active: true", "active: null", 1)
	p = th.plan(body)
	if got := actions(p); got != "domain/web:redefine" {
		t.Fatalf("plan with active: null: %s", got)
	}
	text.Reset()
	RenderText(&text, p)
	if !strings.Contains(text.String(), "it has a managed save image: started, it resumes with the definition it was saved with, and takes this one when it restarts") {
		t.Errorf("plan with active: null:\n%s", text.String())
	}
}

// resumedStub is a test-driver host that says whether a domain was
// resumed from a saved state (the test driver boots it either way).
type resumedStub struct {
	keepOpen
	resumed bool
}

func (r resumedStub) Resumed(string) (bool, error) { return r.resumed, nil }

// A running domain resumed from its managed save image, without a
// restart-class part of its definition, restarts with restart: null; a
// booted one, a next-boot part alone or another policy does not.
func TestResumedGuestRestarts(t *testing.T) {
	th := newTestHost(t)
	no := false
	for _, tc := range []struct {
		name    string
		resumed bool
		class   live.Class
		restart *bool
		want    string
	}{
		{"resumed", true, live.Restart, nil, "restart"},
		{"booted", false, live.Restart, nil, ""},
		{"next boot only", true, live.NextBoot, nil, ""},
		{"restart: false", true, live.Restart, &no, ""},
	} {
		c := &planned{Change: &Change{Kind: compiler.KindDomain, Name: "web", Parts: []Part{{Class: tc.class, Path: "os", Pending: true}}},
			wanted: &Wanted{Restart: tc.restart}, live: &Live{UUID: "u", Active: true}}
		planResumedRestart(resumedStub{keepOpen{th.host}, tc.resumed}, c)
		got := ""
		for _, s := range c.Actions {
			got += string(s.Action)
			if len(s.Reasons) != 1 || s.Reasons[0].Code != ReasonResumesSaved {
				t.Errorf("%s: reasons %+v", tc.name, s.Reasons)
			}
		}
		if got != tc.want || c.Parts[0].Pending != (tc.want == "") {
			t.Errorf("%s: actions %q, parts %+v; want %q", tc.name, got, c.Parts, tc.want)
		}
	}
}
