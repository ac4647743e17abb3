package apply

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/provision/secret"
)

// secretStore keeps secrets for a test-driver host, which has none, as
// libvirt does: by UUID, one per usage, a redefinition keeping the value.
type secretStore struct {
	defs   map[string]string // UUID → XML
	values map[string]secret.Value
	writes int
}

type withSecrets struct {
	keepOpen
	store *secretStore
}

func (th *testHost) secretStore() *secretStore {
	st := &secretStore{defs: map[string]string{}, values: map[string]secret.Value{}}
	th.wrap = func(h Host) Host { return withSecrets{keepOpen{h}, st} }
	return st
}

func (w withSecrets) List(k compiler.Kind) ([]Live, error) {
	if k != compiler.KindSecret {
		return w.keepOpen.List(k)
	}
	var out []Live
	for uuid, x := range w.store.defs {
		out = append(out, Live{UUID: uuid, Name: uuid, XML: x})
	}
	return out, nil
}

func (w withSecrets) Define(k compiler.Kind, x string) error {
	if k != compiler.KindSecret {
		return w.keepOpen.Define(k, x)
	}
	w.store.writes++
	var s libvirtxml.Secret
	if err := s.Unmarshal(x); err != nil {
		return err
	}
	if old, ok := w.store.defs[s.UUID]; ok && usageOf(old) != usageOf(x) {
		return fmt.Errorf("a secret with UUID %s is already defined for use with %s", s.UUID, usageOf(old))
	}
	for uuid, other := range w.store.defs {
		if uuid != s.UUID && usageOf(other) == usageOf(x) {
			return fmt.Errorf("a secret with UUID %s already uses %s", uuid, usageOf(x))
		}
	}
	w.store.defs[s.UUID] = x
	return nil
}

func (w withSecrets) Undefine(k compiler.Kind, uuid string, nvram, tpm bool) error {
	if k != compiler.KindSecret {
		return w.keepOpen.Undefine(k, uuid, nvram, tpm)
	}
	w.store.writes++
	delete(w.store.defs, uuid)
	delete(w.store.values, uuid)
	return nil
}

func (w withSecrets) SetSecretValue(uuid string, v secret.Value) error {
	w.store.writes++
	w.store.values[uuid] = v
	return nil
}

// secretValue is what no output may contain.
const secretValue = "correct-horse-battery-staple"

// everything is all a plan and an apply say, as text and as JSON.
func everything(t *testing.T, p *Plan, res *Result, lines []string) string {
	var b bytes.Buffer
	RenderText(&b, p)
	if err := RenderJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	if res != nil {
		if err := RenderResultJSON(&b, res); err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Failed {
			b.WriteString(f.String() + "\n")
		}
	}
	b.WriteString(strings.Join(lines, "\n"))
	return b.String()
}

// A secret is defined and its value set once; a second apply writes
// nothing; a new value is set again; pruning deletes only the secret
// nixvirt defined. No output and no record holds the value.
func TestSecretValueSetOnceAndOnChange(t *testing.T) {
	th := newTestHost(t)
	store := th.secretStore()
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte(secretValue), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `secrets: "disk-key": {
		definition: {private: true, usage: {type: "volume", volume: "/var/lib/nvt/disk.img"}}
		value: file: "` + file + `"
	}`
	var out strings.Builder
	check := func(p *Plan, res *Result, lines []string) {
		t.Helper()
		all := everything(t, p, res, lines)
		out.WriteString(all)
		if strings.Contains(all, secretValue) {
			t.Fatalf("an output shows the value:\n%s", all)
		}
	}
	apply := func(body string) []string {
		t.Helper()
		var lines []string
		res := Apply(context.Background(), th.wanted(body), th.connect, Options{Prune: true, State: th.st}, func(o Outcome) { lines = append(lines, OutcomeText(o)) })
		check(res.Plan, res, lines)
		if len(res.Failed) > 0 {
			t.Fatalf("apply failed: %v", res.Failed)
		}
		return lines
	}

	p := th.plan(cfg)
	check(p, nil, nil)
	if got := actions(p); got != "secret/disk-key:create secret/disk-key:set-value" {
		t.Fatalf("first plan: %s", got)
	}
	var text bytes.Buffer
	RenderText(&text, p)
	if !strings.Contains(text.String(), "  + secret \"disk-key\" will be created\n  ~ secret \"disk-key\" will have its value set\n      # (a value nixvirt has not set)\n") {
		t.Fatalf("plan:\n%s", text.String())
	}
	if got := strings.Join(apply(cfg), "\n"); got != "secret/disk-key created, value set" {
		t.Fatalf("apply said: %s", got)
	}
	uuid := derivedUUID(th.uri, compiler.KindSecret, "disk-key")
	if _, ok := store.values[uuid]; !ok || len(store.defs) != 1 {
		t.Fatalf("secrets %v, values %v", store.defs, store.values)
	}

	// Unchanged: nothing planned, nothing written.
	writes := store.writes
	if got := actions(th.plan(cfg)); got != "" {
		t.Fatalf("second plan: %s", got)
	}
	apply(cfg)
	if store.writes != writes {
		t.Fatalf("a second apply wrote %d times", store.writes-writes)
	}

	// Changed outside nixvirt: put back, the value kept (libvirt keeps it
	// across a define).
	store.defs[uuid] = strings.Replace(store.defs[uuid], `private="yes"`, `private="no"`, 1)
	p = th.plan(cfg)
	if got := actions(p); got != "secret/disk-key:redefine" || !hasReason(p.Changes[0], ReasonDrifted) || !strings.Contains(p.Changes[0].Diff, `-<secret private="no">`) {
		t.Fatalf("plan after a change outside nixvirt: %s\n%s", got, p.Changes[0].Diff)
	}
	apply(cfg)

	// A new value is set again, and only it.
	if err := os.WriteFile(file, []byte(secretValue+"-2"), 0o600); err != nil {
		t.Fatal(err)
	}
	p = th.plan(cfg)
	check(p, nil, nil)
	if got := actions(p); got != "secret/disk-key:set-value" || p.Changes[0].Actions[0].Reasons[0].Code != ReasonValueChanged {
		t.Fatalf("plan after a new value: %s", got)
	}
	if got := strings.Join(apply(cfg), "\n"); got != "secret/disk-key value set" {
		t.Fatalf("apply said: %s", got)
	}
	if got := actions(th.plan(cfg)); got != "" {
		t.Fatalf("plan after setting it: %s", got)
	}

	// A new usage: libvirt keeps a defined secret's, so the secret is
	// defined again and its value set again.
	moved := strings.Replace(cfg, "/var/lib/nvt/disk.img", "/var/lib/nvt/other.img", 1)
	p = th.plan(moved)
	check(p, nil, nil)
	if got := actions(p); got != "secret/disk-key:redefine secret/disk-key:set-value" || !hasReason(p.Changes[0], ReasonUsageChanged) {
		t.Fatalf("plan after a new usage: %s", got)
	}
	if got := strings.Join(apply(moved), "\n"); got != "secret/disk-key redefined, value set" {
		t.Fatalf("apply said: %s", got)
	}
	if !strings.Contains(store.defs[uuid], "other.img") {
		t.Fatalf("the secret is %s", store.defs[uuid])
	}
	apply(cfg)

	// A value that cannot be read names its file, and the secret alone
	// cannot be planned.
	missing := strings.Replace(cfg, file, file+".gone", 1)
	p = th.plan(missing)
	check(p, nil, nil)
	text.Reset()
	RenderText(&text, p)
	if !strings.Contains(text.String(), `! secret "disk-key" cannot be planned: its value cannot be read: value.file: open `+file+".gone: no such file or directory") {
		t.Fatalf("plan:\n%s", text.String())
	}
	// ... and is not deleted: the entry still names it.
	if got := actions(p); got != "secret/disk-key:error" {
		t.Fatalf("plan with the value missing: %s", got)
	}

	// Pruning deletes the secret nixvirt defined, not one it did not.
	store.defs["1b4e28ba-2fa1-11d2-883f-0016d3cca427"] = `<secret private="yes"><uuid>1b4e28ba-2fa1-11d2-883f-0016d3cca427</uuid><usage type="ceph"><name>someone-else</name></usage></secret>`
	p = th.plan(`secrets: {}`)
	check(p, nil, nil)
	if got := actions(p); got != "secret/disk-key:delete" {
		t.Fatalf("prune: %s", got)
	}
	if len(p.Unmanaged) == 0 || p.Unmanaged[len(p.Unmanaged)-1].Name != "ceph someone-else" {
		t.Fatalf("unmanaged: %+v", p.Unmanaged)
	}
	apply(`secrets: {}`)
	if _, ok := store.defs[uuid]; ok || len(store.defs) != 1 {
		t.Fatalf("secrets left: %v", store.defs)
	}
	if th.st.secret(th.uri, uuid).Hash != "" {
		t.Fatal("the record of the deleted secret stays")
	}
	// No record holds the value either.
	entries, _ := os.ReadDir(th.st.dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(th.st.dir, e.Name()))
		if bytes.Contains(data, []byte(secretValue)) {
			t.Fatalf("%s holds the value", e.Name())
		}
	}
	if !strings.Contains(out.String(), `"action": "set-value"`) {
		t.Fatal("the JSON outputs were not checked")
	}
}

// Another owner's secret is left alone, and present: false deletes only
// this owner's.
func TestSecretOwnership(t *testing.T) {
	th := newTestHost(t)
	store := th.secretStore()
	t.Setenv("NVT_SECRET", secretValue)
	cfg := `secrets: [{name: "ceph-key", definition: {private: true, usage: {type: "ceph", name: "client.nvt"}}, value: env: "NVT_SECRET"}]`
	if res := th.applyOf("alpha", cfg, false); len(res.Failed) > 0 {
		t.Fatal(res.Failed)
	}
	p := th.planOf("beta", cfg, false)
	if p.Changes[0].Problem == nil || p.Changes[0].Problem.Code != ProblemOtherOwner {
		t.Fatalf("another owner's secret: %+v", p.Changes[0])
	}
	p = th.planOf("beta", `secrets: [{name: "ceph-key", present: false}]`, false)
	if p.Changes[0].Problem == nil || p.Changes[0].Problem.Code != ProblemNotOwned {
		t.Fatalf("present: false of another owner's secret: %+v", p.Changes[0])
	}
	if got := actions(th.planOf("alpha", `secrets: [{name: "ceph-key", present: false}]`, false)); got != "secret/ceph-key:delete" {
		t.Fatalf("present: false: %s", got)
	}
	if len(store.defs) != 1 {
		t.Fatalf("secrets: %v", store.defs)
	}
}

func hasReason(c *Change, code ReasonCode) bool {
	for _, s := range c.Actions {
		for _, r := range s.Reasons {
			if r.Code == code {
				return true
			}
		}
	}
	return false
}

// A usage change that would lose the value for good is not planned: when
// another secret holds the new usage (libvirt would refuse the new
// definition once the old one is undefined), and when the entry gives no
// value to set again. The secret and its value stay as they are.
func TestSecretUsageChangeThatWouldLoseItsValue(t *testing.T) {
	th := newTestHost(t)
	store := th.secretStore()
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(secretValue), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := `secrets: "disk-key": {
		definition: {private: true, usage: {type: "volume", volume: "/var/lib/nvt/disk.img"}}
		value: file: "` + file + `"
	}`
	run := func(body string) *Result {
		t.Helper()
		return Apply(context.Background(), th.wanted(body), th.connect, Options{Prune: true, State: th.st}, func(Outcome) {})
	}
	if res := run(cfg); len(res.Failed) > 0 {
		t.Fatalf("first apply: %v", res.Failed)
	}
	uuid := derivedUUID(th.uri, compiler.KindSecret, "disk-key")
	store.defs["1b4e28ba-2fa1-11d2-883f-0016d3cca427"] = `<secret private="yes"><uuid>1b4e28ba-2fa1-11d2-883f-0016d3cca427</uuid><usage type="volume"><volume>/var/lib/nvt/other.img</volume></usage></secret>`
	moved := strings.Replace(cfg, "/var/lib/nvt/disk.img", "/var/lib/nvt/other.img", 1)
	var text bytes.Buffer
	RenderText(&text, th.plan(moved))
	if !strings.Contains(text.String(), "its usage changes, which libvirt does only by undefining the secret and so losing its value; its new usage (volume /var/lib/nvt/other.img) is secret 1b4e28ba-2fa1-11d2-883f-0016d3cca427's") {
		t.Fatalf("plan:\n%s", text.String())
	}
	writes := store.writes
	if res := run(moved); len(res.Failed) == 0 || store.writes != writes {
		t.Fatalf("apply: failures %v, %d writes", res.Failed, store.writes-writes)
	}
	if _, ok := store.values[uuid]; !ok || !strings.Contains(store.defs[uuid], "disk.img") {
		t.Fatalf("the secret changed: %q, value kept %v", store.defs[uuid], ok)
	}

	// No value to set again.
	delete(store.defs, "1b4e28ba-2fa1-11d2-883f-0016d3cca427")
	noValue := strings.Replace(moved, `value: file: "`+file+`"`, "", 1)
	text.Reset()
	RenderText(&text, th.plan(noValue))
	if !strings.Contains(text.String(), "the entry gives no value to set again") {
		t.Fatalf("plan:\n%s", text.String())
	}
	if res := run(noValue); len(res.Failed) == 0 || store.writes != writes {
		t.Fatalf("apply without a value: failures %v, %d writes", res.Failed, store.writes-writes)
	}
}

// A new secret (no secret has its UUID) whose usage another secret has
// is not planned as a creation that libvirt would refuse: the plan names
// that secret and whose it is (nobody's, this configuration's under
// another entry name, another owner's, another state directory's), with
// what to do; apply changes nothing, and prunes nothing in its way.
func TestSecretUsageTakenByAnother(t *testing.T) {
	t.Setenv("NVT_SECRET", secretValue)
	entry := func(name string) string {
		return `secrets: "` + name + `": {definition: {private: true, usage: {type: "ceph", name: "client.nvt"}}, value: env: "NVT_SECRET"}`
	}
	const unowned = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
	for _, tc := range []struct {
		name string
		// prepare gives the host the secret in the way, and returns its
		// UUID and whose it is.
		prepare func(th *testHost, store *secretStore) (string, *Holder)
		owner   string
		says    []string
	}{{
		name: "nobody's",
		prepare: func(th *testHost, store *secretStore) (string, *Holder) {
			store.defs[unowned] = `<secret private="yes"><uuid>` + unowned + `</uuid><usage type="ceph"><name>client.nvt</name></usage></secret>`
			return unowned, nil
		},
		owner: "alpha",
		says: []string{`its usage (ceph client.nvt) is secret ` + unowned + `'s, which nixvirt did not define`,
			`give the definition uuid: "` + unowned + `" to take that secret over`, "virsh secret-undefine " + unowned},
	}, {
		name: "this configuration's, under the entry's old name",
		prepare: func(th *testHost, store *secretStore) (string, *Holder) {
			if res := th.applyOf("alpha", entry("ceph-key"), false); len(res.Failed) > 0 {
				t.Fatal(res.Failed)
			}
			return derivedUUID(th.uri, compiler.KindSecret, "ceph-key"), &Holder{Owner: "alpha", Own: true, Name: "ceph-key"}
		},
		owner: "alpha",
		says:  []string{`is this configuration's secret "ceph-key"`, `if this entry is "ceph-key" renamed, give its definition uuid: "`},
	}, {
		name: "another owner's",
		prepare: func(th *testHost, store *secretStore) (string, *Holder) {
			if res := th.applyOf("alpha", entry("ceph-key"), false); len(res.Failed) > 0 {
				t.Fatal(res.Failed)
			}
			return derivedUUID(th.uri, compiler.KindSecret, "ceph-key"), &Holder{Owner: "alpha", Name: "ceph-key"}
		},
		owner: "beta",
		says:  []string{`belongs to owner "alpha" (its entry "ceph-key"), another configuration; nixvirt never changes another configuration's secrets`, "--take-over, which makes it this configuration's"},
	}, {
		name: "another state directory's",
		prepare: func(th *testHost, store *secretStore) (string, *Holder) {
			other := th.otherStateDir()
			if res := applyWith(th, other, "alpha", entry("ceph-key"), false); len(res.Failed) > 0 {
				t.Fatal(res.Failed)
			}
			return derivedUUID(th.uri, compiler.KindSecret, "ceph-key"), &Holder{Owner: "alpha", StateDir: other.absDir()}
		},
		owner: "beta",
		says:  []string{`belongs to owner "alpha", another configuration (its state directory `, "--take-over"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			th := newTestHost(t)
			store := th.secretStore()
			uuid, want := tc.prepare(th, store)
			body := entry("ceph-new")
			p := th.planOf(tc.owner, body, false)
			if len(p.Changes) != 1 || p.Changes[0].Problem == nil {
				t.Fatalf("plan: %s", actions(p))
			}
			pr := p.Changes[0].Problem
			if pr.Code != ProblemUsageTaken || pr.Detail != uuid {
				t.Fatalf("problem: %+v", pr)
			}
			if fmt.Sprint(pr.Holder) != fmt.Sprint(want) {
				t.Fatalf("holder: %+v, want %+v", pr.Holder, want)
			}
			text := ProblemText(p.Changes[0])
			for _, s := range tc.says {
				if !strings.Contains(text, s) {
					t.Errorf("the problem does not say %q:\n%s", s, text)
				}
			}
			var doc bytes.Buffer
			if err := RenderJSON(&doc, p); err != nil || !strings.Contains(doc.String(), `"code": "usage-taken"`) {
				t.Fatalf("JSON: %v\n%s", err, doc.String())
			}
			defs, writes := fmt.Sprint(store.defs), store.writes
			res := th.applyOf(tc.owner, body, false)
			if len(res.Failed) != 1 || res.Failed[0].Problem == nil || res.Failed[0].Problem.Code != ProblemUsageTaken {
				t.Fatalf("apply: %+v", res.Failed)
			}
			if store.writes != writes || fmt.Sprint(store.defs) != defs {
				t.Fatalf("apply changed the secrets: %d writes\n%s", store.writes-writes, fmt.Sprint(store.defs))
			}
		})
	}
}
