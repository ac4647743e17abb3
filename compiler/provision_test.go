package compiler

import (
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue/cuecontext"
	"go.yaml.in/yaml/v3"
)

func TestSeedTextKeepsOrderAndStrings(t *testing.T) {
	v := cuecontext.New().CompileString(`{users: [{name: "ops", ssh_authorized_keys: ["ssh-ed25519 AAAA k"]}], ssh_pwauth: false, mode: "0644", answer: "yes", runcmd: [["echo", "a\nb"]]}`)
	n, err := seedText(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	want := `users:
    - name: ops
      ssh_authorized_keys:
        - ssh-ed25519 AAAA k
ssh_pwauth: false
mode: "0644"
answer: "yes"
runcmd:
    - - echo
      - |-
        a
        b
`
	if string(out) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
}

// A url's checksum is a sha256 or a sha512, one of them; a url without
// either is an error at its content, naming both.
func TestContentURLChecksum(t *testing.T) {
	s := mustSchema(t)
	dir := t.TempDir()
	vol := func(content string) string {
		return `connections: "test:///default": pools: p: {definition: {type: "dir", target: path: "/p"}, volumes: "v.img": {definition: capacity: {count: 1, unit: "MiB"}, content: ` + content + `}}`
	}
	sha512 := strings.Repeat("ab", 64)
	cfg, err := decodeConfig(t, s, vol(`{url: "https://example.org/v.img", sha512: "`+strings.ToUpper(sha512)+`"}`), dir)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Objects[1].Entry.Content; c == nil || c.SHA512 != strings.ToUpper(sha512) || c.SHA256 != "" {
		t.Fatalf("content %+v", cfg.Objects[1].Entry.Content)
	}
	for content, want := range map[string]string{
		`{url: "https://example.org/v.img"}`: "content: a url needs the checksum of what it serves: sha256 or sha512",
		`{url: "https://example.org/v.img", sha256: "` + strings.Repeat("0", 64) + `", sha512: "` + sha512 + `"}`: "content: give sha256 or sha512, not both",
		`{url: "https://example.org/v.img", sha512: "` + strings.Repeat("0", 64) + `"}`:                           "sha512",
	} {
		_, err := decodeConfig(t, s, vol(content), dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", content, err, want)
		}
	}
}

// A secret entry takes its name from its key or, in the list form, its
// name (a libvirt secret has none), and its value from a file, relative
// to the file that names it, or an environment variable.
func TestSecretEntries(t *testing.T) {
	s := mustSchema(t)
	dir := t.TempDir()
	cfg, err := decodeConfig(t, s, `connections: "test:///default": secrets: {
		a: {definition: {private: true, usage: {type: "ceph", name: "a"}}, value: file: "a.key"}
		b: {definition: {usage: {type: "volume", volume: "/b.img"}}, value: env: "B_KEY"}
		c: present: false
	}`, dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*SecretValue{}
	for _, o := range cfg.Objects {
		if o.Kind != KindSecret {
			t.Fatalf("object %+v", o)
		}
		got[o.Name] = o.Entry.SecretValue
	}
	if got["a"] == nil || got["a"].File != filepath.Join(dir, "a.key") || got["b"] == nil || got["b"].Env != "B_KEY" || got["c"] != nil || len(got) != 3 {
		t.Fatalf("values %+v", got)
	}
	if cfg.Connections[0].Managed[0] != KindSecret {
		t.Fatalf("managed %v", cfg.Connections[0].Managed)
	}
	for src, want := range map[string]string{
		`secrets: [{definition: {usage: {type: "ceph", name: "x"}}}]`:    "a secret entry needs a name: a libvirt secret has none of its own",
		`secrets: x: {definition: {name: "x"}}`:                          "name",
		`secrets: x: {definition: {usage: {type: "x"}}}`:                 "usage.type",
		`secrets: x: {definition: {}, value: {file: "a", env: "B"}}`:     "value",
		`secrets: x: {definition: {usage: {type: "volume"}}, value: {}}`: "value",
	} {
		cfg, err := decodeConfig(t, s, `connections: "test:///default": `+src, dir)
		if err == nil {
			// A definition is checked when it is compiled.
			_, err = s.Compile(cfg.Objects[0])
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", src, err, want)
		}
	}
}
