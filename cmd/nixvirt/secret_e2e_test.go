package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2ESecret defines two secrets on a real libvirtd, one private and
// one not (whose value virsh reads back), sets their values once, sets
// one again when its file changes, makes no write on an unchanged apply,
// and prunes only the secrets it defined. No output of plan or apply, as
// text or JSON, contains a value. Its secrets' usages are named nvxh15-*,
// its owner is nvx-h15.
func TestE2ESecret(t *testing.T) {
	uri := e2eURI(t)
	n := os.Getpid() % 100000
	dir := t.TempDir()
	t.Setenv("NIXVIRT_STATE_DIR", filepath.Join(dir, "state"))
	private := fmt.Sprintf("nvxh15-private-%d", n)
	public := fmt.Sprintf("nvxh15-public-%d", n)
	other := fmt.Sprintf("nvxh15-other-%d", n)
	cleanup := func() {
		out, _ := exec.Command("virsh", "-c", uri, "secret-list").Output()
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && strings.Contains(line, "nvxh15-") && strings.Contains(line, fmt.Sprint(n)) {
				exec.Command("virsh", "-c", uri, "secret-undefine", f[0]).Run()
			}
		}
	}
	cleanup()
	t.Cleanup(cleanup)

	values := map[string]string{
		"private.key": fmt.Sprintf("nvxh15-value-private-%d", n),
		"public.key":  fmt.Sprintf("nvxh15-value-public-%d", n),
	}
	writeValues := func() {
		for f, v := range values {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	writeValues()
	writeConfig := func(secrets string) {
		cfg := fmt.Sprintf("package host\n\nconnections: %q: secrets: %s\n", uri, secrets)
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	both := fmt.Sprintf(`{
	%[1]q: {definition: {private: true, ephemeral: false, usage: {type: "ceph", name: %[1]q}}, value: file: "private.key"}
	%[2]q: {definition: {private: false, ephemeral: false, usage: {type: "volume", volume: "/var/lib/nvxh15/%[2]s.img"}}, value: file: "public.key"}
}`, private, public)
	writeConfig(both)
	// Someone else's secret, which pruning leaves alone.
	otherXML := filepath.Join(dir, "other.xml")
	os.WriteFile(otherXML, []byte(fmt.Sprintf(`<secret ephemeral="no" private="yes"><usage type="ceph"><name>%s</name></usage></secret>`, other)), 0o644)
	virsh(t, uri, "secret-define", otherXML)

	var said strings.Builder
	nixvirt := func(args ...string) string {
		t.Helper()
		out, err := run(t, dir, append(args, "--owner", "nvx-h15", "host.cue")...)
		said.WriteString(out)
		for _, v := range values {
			if strings.Contains(out, v) {
				t.Fatalf("nixvirt %s shows a value:\n%s", args[0], out)
			}
		}
		if err != nil {
			t.Fatalf("nixvirt %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	uuidOf := func(usage string) string {
		t.Helper()
		for _, line := range strings.Split(virsh(t, uri, "secret-list"), "\n") {
			if f := strings.Fields(line); len(f) >= 3 && strings.HasSuffix(line, " "+usage) {
				return f[0]
			}
		}
		return ""
	}
	readBack := func() string {
		t.Helper()
		b, err := base64.StdEncoding.DecodeString(virsh(t, uri, "secret-get-value", uuidOf("/var/lib/nvxh15/"+public+".img")))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	nixvirt("plan", "--output", "json")
	out := nixvirt("plan")
	for _, want := range []string{fmt.Sprintf("+ secret %q will be created", private), fmt.Sprintf("~ secret %q will have its value set", public)} {
		if !strings.Contains(out, want) {
			t.Fatalf("plan lacks %q:\n%s", want, out)
		}
	}
	out = nixvirt("apply", "--output", "json")
	if strings.Count(out, `"action": "set-value"`) < 2 {
		t.Fatalf("apply did not set both values:\n%s", out)
	}
	if uuidOf("ceph "+private) == "" || readBack() != values["public.key"] {
		t.Fatalf("after apply: secrets\n%s\nvalue read back %q", virsh(t, uri, "secret-list"), readBack())
	}
	if o := exec.Command("virsh", "-c", uri, "secret-get-value", uuidOf("ceph "+private)); o.Run() == nil {
		t.Fatal("the private secret's value can be read back")
	}

	// Unchanged: the plan is empty for the secrets, and apply writes
	// nothing (a second set of a private value would not show otherwise).
	out = nixvirt("apply")
	if strings.Contains(out, "secret/") {
		t.Fatalf("second apply changed a secret:\n%s", out)
	}

	// A new value of one secret is set again, and only it.
	values["public.key"] += "-changed"
	writeValues()
	out = nixvirt("plan")
	if !strings.Contains(out, fmt.Sprintf("~ secret %q will have its value set\n      # (its value changed since nixvirt set it)", public)) || strings.Contains(out, fmt.Sprintf("secret %q", private)) {
		t.Fatalf("plan after a new value:\n%s", out)
	}
	out = nixvirt("apply")
	if !strings.Contains(out, fmt.Sprintf("secret/%s value set", public)) || strings.Contains(out, "secret/"+private) {
		t.Fatalf("apply after a new value:\n%s", out)
	}
	if got := readBack(); got != values["public.key"] {
		t.Fatalf("value read back %q, want the new one", got)
	}

	// Pruning removes the two secrets nixvirt defined, not the other.
	writeConfig("{}")
	out = nixvirt("apply")
	if !strings.Contains(out, "secret/"+private+" deleted") || !strings.Contains(out, "secret/"+public+" deleted") {
		t.Fatalf("prune:\n%s", out)
	}
	if uuidOf("ceph "+private) != "" || uuidOf("/var/lib/nvxh15/"+public+".img") != "" || uuidOf("ceph "+other) == "" {
		t.Fatalf("after pruning:\n%s", virsh(t, uri, "secret-list"))
	}
	if !strings.Contains(said.String(), `"action": "set-value"`) {
		t.Fatal("the JSON outputs were not checked")
	}
}
