package compiler

import (
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
