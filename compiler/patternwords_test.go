package compiler

import (
	"strconv"
	"strings"
	"testing"
)

// TestPatternWords: a value that does not match one of the grammar's
// named patterns is said to be not what the type is, in words, at its
// path and position, rather than with the whole regular expression (1300
// characters for an IP address): from CUE input, from JSON that the Go
// checker refuses, and in an entry of a configuration.
func TestPatternWords(t *testing.T) {
	s, err := mustSchema(t).Precise()
	if err != nil {
		t.Fatal(err)
	}
	dir := writeTree(t, t.TempDir(), map[string]string{
		"net.cue":  "name: \"lab\"\nip: {address: \"10.0.300.1\", netmask: \"255.255.255.0\"}\n",
		"net.json": `{"name": "lab", "ip": {"address": "10.0.300.1", "netmask": "255.255.255.0"}}`,
		"host.cue": "connections: \"test:///default\": domains: web: definition: {\n\ttype: \"kvm\"\n\tuuid: \"c7a5fdbd\"\n}\n",
	})
	for _, tc := range []struct {
		file string
		kind Kind
		want []Problem
	}{
		{"net.cue", KindNetwork, []Problem{{Path: "ip.address", Message: `"10.0.300.1" is not an IP address`, Positions: []string{"./net.cue:2:15"}}}},
		{"net.json", KindNetwork, []Problem{{Path: "ip.address", Message: `"10.0.300.1" is not an IP address`, Positions: []string{"./net.json:1:35"}}}},
		{"host.cue", "", []Problem{
			{Path: `connections."test:///default".domains.web.definition.uuid`, Message: `"c7a5fdbd" is not a UUID`, Positions: []string{"./host.cue:3:8"}},
		}},
	} {
		v, err := s.Load(Input{Dir: dir, Args: []string{tc.file}}, "")
		if err != nil {
			t.Fatal(err)
		}
		if tc.kind != "" {
			_, err = s.Check(v, tc.kind)
		} else {
			_, err = s.CheckConfig(v)
		}
		got := Report(err, dir)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %#v\nwant %#v", tc.file, got, tc.want)
			continue
		}
		for i := range got {
			if got[i].Path != tc.want[i].Path || got[i].Message != tc.want[i].Message || strings.Join(got[i].Positions, " ") != strings.Join(tc.want[i].Positions, " ") {
				t.Errorf("%s: %#v\nwant %#v", tc.file, got[i], tc.want[i])
			}
		}
	}
}

// TestPatternShown: a pattern the grammar gives no words is shown when it
// is short, and an enumeration however long (it lists what is allowed);
// another long pattern is shortened.
func TestPatternShown(t *testing.T) {
	s := mustSchema(t)
	long := "^(?:" + strings.Repeat("[a-z]{2}[0-9]", 60) + ")$"
	words := "^(?:" + strings.Repeat("word|", 60) + "last)$"
	for _, tc := range []struct {
		re, want string
	}{
		{"^[A-Z]+$", `invalid value "bad" (out of bound =~"^[A-Z]+$")`},
		{words, `invalid value "bad" (out of bound =~"` + words + `")`},
		{long, `"bad" does not match =~"` + long[:maxPatternShown-3] + "…"},
	} {
		v := s.ctx.CompileString("x: \"bad\"\nx: =~" + strconv.Quote(tc.re))
		got := Report(v.Validate(), "")
		if len(got) != 1 || got[0].Message != tc.want {
			t.Errorf("%.40s…: %#v\nwant %q", tc.re, got, tc.want)
		}
	}
}
