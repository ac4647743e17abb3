package compiler

import (
	"strings"
	"testing"
)

// TestEntryEveryMistake: every mistake of one entry is reported in one
// run, each at its path and the user's position, in the order of the
// file: several in one struct (memory's count and unit), an unknown field
// beside wrong values, a key its definition's name disagrees with, and an
// XML file that is not there, also when the schema finds mistakes
// elsewhere. CUE reports only the first mistake within an alternative of
// a disjunction (the definition is `#Domain | string`, every optional
// element `#X | null`), and Objects read the XML files only once the
// schema's mistakes were fixed: these were reported a round at a time.
func TestEntryEveryMistake(t *testing.T) {
	s, err := mustSchema(t).Precise()
	if err != nil {
		t.Fatal(err)
	}
	const domain = `"type": "kvm", "uuid": "c7a5fdbd-cdaf-9455-926a", "memory": {"count": -4, "unit": "XB"}, "vcpu": {"placement": "static", "count": 0}, "os": {"type": "hvm"}, "bogus": 1`
	dir := writeTree(t, t.TempDir(), map[string]string{
		"host.cue": "connections: \"test:///default\": domains: {\n" +
			"\tweb: definition: {\n" +
			"\t\ttype: \"kvm\"\n" +
			"\t\tuuid: \"c7a5fdbd-cdaf-9455-926a\"\n" +
			"\t\tmemory: {count: -4, unit: \"XB\"}\n" +
			"\t\tvcpu: {placement: \"static\", count: 0}\n" +
			"\t\tos: type: \"hvm\"\n" +
			"\t\tbogus: 1\n" +
			"\t}\n" +
			"\tdb: definition: {name: \"other\", type: \"kvm\", os: type: \"hvm\"}\n" +
			"\tlegacy: definition: \"./legacy.xml\"\n" +
			"}\n",
		"host.json":     `{"connections": {"test:///default": {"domains": [{"definition": {"name": "web", ` + domain + `}}, {"definition": "legacy.xml"}]}}}`,
		"settings.json": `{"domains": [{"definition": {"name": "web", ` + domain + `}}]}`,
	})
	web := `connections."test:///default".domains.web.definition.`
	list := `connections."test:///default".domains.0.definition.`
	for _, tc := range []struct {
		file string
		want []string // path: message: position
	}{
		{"host.cue", []string{
			web + `uuid: "c7a5fdbd-cdaf-9455-926a" is not a UUID: ./host.cue:4:9`,
			web + `memory.count: invalid value -4 (out of bound >=0): ./host.cue:5:19`,
			web + `memory.unit: "XB" is not a unit (B, KiB, MiB, GiB, KB, MB…): ./host.cue:5:29`,
			web + `vcpu.count: invalid value 0 (out of bound >=1): ./host.cue:6:38`,
			web + `bogus: field not allowed: ./host.cue:8:3`,
			`connections."test:///default".domains.db.definition.name: conflicting values "db" and "other": ./host.cue:10:25`,
			`connections."test:///default".domains.legacy.definition: cannot read the domain definition: ./legacy.xml: no such file: ./host.cue:11:22`,
		}},
		{"host.json", []string{
			list + `uuid: "c7a5fdbd-cdaf-9455-926a" is not a UUID: ./host.json:1:104`,
			list + `memory.count: invalid value -4 (out of bound >=0): ./host.json:1:151`,
			list + `memory.unit: "XB" is not a unit (B, KiB, MiB, GiB, KB, MB…): ./host.json:1:163`,
			list + `vcpu.count: invalid value 0 (out of bound >=1): ./host.json:1:211`,
			list + `bogus: field not allowed: ./host.json:1:239`,
			`connections."test:///default".domains.1.definition: cannot read the domain definition: legacy.xml: no such file: ./host.json:1:267`,
		}},
	} {
		v, err := s.Load(Input{Dir: dir, Args: []string{tc.file}}, "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CheckConfigIn(v, dir)
		var got []string
		for _, p := range Report(err, dir) {
			got = append(got, p.Path+": "+p.Message+": "+strings.Join(p.Positions, " "))
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n%s\nwant\n%s", tc.file, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// TestDocumentEveryMistake: a single document's mistakes are all reported
// in one run too, also several in one struct, in the file's order, also
// of a value selected with -e (at its paths from the selection, as the
// first round's); a document with one mistake has it once.
func TestDocumentEveryMistake(t *testing.T) {
	s, err := mustSchema(t).Precise()
	if err != nil {
		t.Fatal(err)
	}
	const doc = "type: \"kvm\"\nname: \"web\"\nmemory: {count: -4, unit: \"XB\"}\nos: {type: \"hvm\", machine: 5}\nbogus: 1\n"
	dir := writeTree(t, t.TempDir(), map[string]string{
		"web.cue": doc,
		"sel.cue": "vms: web: {\n" + doc + "}\n",
		"one.cue": "type: \"kvm\"\nname: \"web\"\nmemory: {count: -4, unit: \"GiB\"}\n",
	})
	for _, tc := range []struct {
		file, expr string
		want       []string
	}{
		{"web.cue", "", []string{
			`memory.count: invalid value -4 (out of bound >=0): ./web.cue:3:17`,
			`memory.unit: "XB" is not a unit (B, KiB, MiB, GiB, KB, MB…): ./web.cue:3:27`,
			`os.machine: 5 is an int, where a string belongs: ./web.cue:4:28`,
			`bogus: field not allowed: ./web.cue:5:1`,
		}},
		{"sel.cue", "vms.web", []string{
			`memory.count: invalid value -4 (out of bound >=0): ./sel.cue:4:17`,
			`memory.unit: "XB" is not a unit (B, KiB, MiB, GiB, KB, MB…): ./sel.cue:4:27`,
			`os.machine: 5 is an int, where a string belongs: ./sel.cue:5:28`,
			`bogus: field not allowed: ./sel.cue:6:1`,
		}},
		{"one.cue", "", []string{
			`memory.count: invalid value -4 (out of bound >=0): ./one.cue:3:17`,
		}},
	} {
		v, err := s.Load(Input{Dir: dir, Args: []string{tc.file}}, tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Check(v, KindDomain)
		var got []string
		for _, p := range Report(err, dir) {
			got = append(got, p.Path+": "+p.Message+": "+strings.Join(p.Positions, " "))
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n%s\nwant\n%s", tc.file, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
}

// TestEveryXMLFile: every XML file of a configuration that cannot be read
// is reported in one run, not the first only, when the schema finds
// nothing wrong; a file that is there is no error.
func TestEveryXMLFile(t *testing.T) {
	dir := writeTree(t, t.TempDir(), map[string]string{
		"host.cue":   "connections: \"test:///default\": {\n\tdomains: a: definition: \"a.xml\"\n\tdomains: b: definition: \"b.xml\"\n\tnetworks: n: definition: \"n.xml\"\n}\n",
		"legacy.xml": legacyXML,
		"n.xml":      "<network><name>n</name></network>\n",
	})
	err := Run(func(s *Schema) error {
		v, err := s.Load(Input{Dir: dir, Args: []string{"host.cue"}}, "")
		if err != nil {
			return err
		}
		u, err := s.CheckConfigIn(v, dir)
		if err != nil {
			return err
		}
		_, err = s.Objects(u, dir)
		return err
	})
	var got []string
	for _, p := range Report(err, dir) {
		got = append(got, p.Path+": "+p.Message+": "+strings.Join(p.Positions, " "))
	}
	want := []string{
		`connections."test:///default".domains.a.definition: cannot read the domain definition: a.xml: no such file: ./host.cue:2:26`,
		`connections."test:///default".domains.b.definition: cannot read the domain definition: b.xml: no such file: ./host.cue:3:26`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
