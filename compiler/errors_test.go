package compiler

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
)

// TestReport: each error once, as value path, message and positions in the
// user's files relative to the working directory, without the schema's
// positions or the disjunction summaries.
func TestReport(t *testing.T) {
	s, err := mustSchema(t).Precise()
	if err != nil {
		t.Fatal(err)
	}
	dir := writeTree(t, t.TempDir(), map[string]string{
		"vm/web.cue": "type: \"kvm\"\nname: \"web\"\ndevices: disk: {type: \"file\", device: \"disk\", target: {dev: \"vda\", bus: \"floppy-ish\"}}\n",
	})
	v, err := s.Load(Input{Dir: dir, Args: []string{"vm/web.cue"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Check(v, KindDomain)
	got := Report(err, dir)
	want := []Problem{{
		Path:      "devices.disk.target.bus",
		Message:   `invalid value "floppy-ish" (out of bound =~"^(?:ide|fdc|scsi|virtio|xen|usb|uml|sata|sd)$")`,
		Positions: []string{"./vm/web.cue:3:73"},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Report:\n%#v\nwant\n%#v", got, want)
	}
	var b strings.Builder
	PrintError(&b, err, filepath.Join(dir, "vm"))
	if want := "devices.disk.target.bus: " + want[0].Message + ":\n    ./web.cue:3:73\n"; b.String() != want {
		t.Errorf("PrintError from vm/:\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	PrintError(&b, err, filepath.Join(dir, "other"))
	if !strings.Contains(b.String(), "    ../vm/web.cue:3:73\n") {
		t.Errorf("PrintError from a sibling directory:\n%s", b.String())
	}

	// A plain Go error is its message.
	if got := Report(errors.New("boom"), dir); !reflect.DeepEqual(got, []Problem{{Message: "boom"}}) {
		t.Errorf("plain error: %#v", got)
	}
	b.Reset()
	PrintError(&b, errors.New("x.cue: no such file"), dir)
	if b.String() != "x.cue: no such file\n" {
		t.Errorf("plain error printed as %q", b.String())
	}
}

// TestRelPos: positions are relative to the working directory, JSON
// positions as given, with "./" in front, and stdin's as "-".
func TestRelPos(t *testing.T) {
	f := func(name string) token.Pos {
		return token.NewFile(name, -1, 100).Pos(0, token.NoRelPos)
	}
	for _, tc := range []struct{ name, cwd, want string }{
		{"/w/host/a.cue", "/w", "./host/a.cue:1:1"},
		{"/w/a.cue", "/w/sub", "../a.cue:1:1"},
		{"/w/a.cue", "", "/w/a.cue:1:1"},
		{"host/a.json", "/w", "./host/a.json:1:1"},
		{"../a.json", "/w", "../a.json:1:1"},
		{"-", "/w", "-:1:1"},
	} {
		if got := relPos(f(tc.name), tc.cwd); got != tc.want {
			t.Errorf("relPos(%s, %q) = %s, want %s", tc.name, tc.cwd, got, tc.want)
		}
	}
}

// TestUserPositionsFirst: a missing required field, which CUE places in
// the schema, is reported at the user's enclosing value; a null that
// cannot mean absent is named as such.
func TestUserPositionsFirst(t *testing.T) {
	s, _ := mustSchema(t).Precise()
	for _, tc := range []struct{ src, want string }{
		{"type: \"kvm\"\nos: type: \"hvm\"\n", "name: field is required but not present:\n    ./doc.cue:1:1\n"},
		{"type: \"kvm\"\nname: null\n", "name: null here is not absent: this field is required:\n    ./doc.cue:2:1\n"},
	} {
		_, err := s.Check(s.Context().CompileString(tc.src, cue.Filename("doc.cue")), KindDomain)
		var b strings.Builder
		PrintError(&b, err, "")
		if b.String() != tc.want {
			t.Errorf("%q:\n%s\nwant\n%s", tc.src, b.String(), tc.want)
		}
	}
}

// TestExplaining: which of CUE's errors about a failed disjunction are
// shown, decided by paths, positions and kinds alone.
func TestExplaining(t *testing.T) {
	file := token.NewFile("/w/doc.cue", -1, 100)
	at := func(offset int) token.Pos { return file.Pos(offset, token.NoRelPos) }
	at0, at1 := at(0), at(10)
	conflict := func(pos token.Pos, have, want cue.Kind) cueerrors.Error {
		return cueerrors.Newf(pos, "conflicting values %s and %s (mismatched types %s and %s)", "x", "y", have, want)
	}
	summary := cueerrors.Newf(token.NoPos, "%d errors in empty disjunction:", 2)
	bound := cueerrors.Newf(at1, "invalid value %s", "z")
	inPath := func(e cueerrors.Error, path ...string) cueerrors.Error { return &pathedError{err: e, path: path} }

	for _, tc := range []struct {
		name string
		all  []cueerrors.Error
		want []int // indexes into all
	}{
		{"a summary and the mismatch it counts, alone: the mismatches stay",
			[]cueerrors.Error{inPath(summary, "memory"), inPath(conflict(at0, cue.IntKind, cue.NullKind), "memory"), inPath(conflict(at0, cue.IntKind, cue.StructKind), "memory")},
			[]int{1, 2}},
		{"a mismatch explained by another error at its path",
			[]cueerrors.Error{inPath(conflict(at0, cue.StringKind, cue.IntKind), "count"), inPath(bound, "count")},
			[]int{1}},
		{"a mismatch explained by any error beneath it, a mismatch too",
			[]cueerrors.Error{inPath(conflict(at0, cue.StructKind, cue.StringKind), "definition"), inPath(conflict(at1, cue.IntKind, cue.StructKind), "definition", "memory")},
			[]int{1}},
		{"a mismatch beside, not beneath: kept",
			[]cueerrors.Error{inPath(conflict(at0, cue.StringKind, cue.IntKind), "count"), inPath(bound, "countx")},
			[]int{0, 1}},
		{"the shapes struct, list and null give way to anything else",
			[]cueerrors.Error{inPath(conflict(at0, cue.StructKind, cue.ListKind), "disk"), inPath(bound, "name")},
			[]int{1}},
		{"the shapes alone stay",
			[]cueerrors.Error{inPath(conflict(at0, cue.StructKind, cue.ListKind), "disk"), inPath(conflict(at0, cue.StructKind, cue.NullKind), "disk")},
			[]int{0, 1}},
		{"a summary with nothing placed at its path stays",
			[]cueerrors.Error{inPath(summary, "a"), inPath(bound, "b")},
			[]int{0, 1}},
	} {
		got := explaining(tc.all)
		var want []cueerrors.Error
		for _, i := range tc.want {
			want = append(want, tc.all[i])
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\ngot  %v\nwant %v", tc.name, got, want)
		}
	}
}

// pathedError gives a test error a path.
type pathedError struct {
	err  cueerrors.Error
	path []string
}

func (e *pathedError) Position() token.Pos          { return e.err.Position() }
func (e *pathedError) InputPositions() []token.Pos  { return e.err.InputPositions() }
func (e *pathedError) Error() string                { return cueerrors.String(e) }
func (e *pathedError) Path() []string               { return e.path }
func (e *pathedError) Msg() (string, []interface{}) { return e.err.Msg() }

// TestKindMismatch: the kinds come from the conflict's arguments, and an
// error without two different kinds among them is no mismatch.
func TestKindMismatch(t *testing.T) {
	have, want, ok := kindMismatch(cueerrors.Newf(token.NoPos, "%v %v %v %v", 1, 2, cue.ListKind, cue.StructKind))
	if !ok || have != cue.ListKind || !reflect.DeepEqual(want, []cue.Kind{cue.StructKind}) {
		t.Errorf("list and struct: %v %v %v", have, want, ok)
	}
	for _, e := range []cueerrors.Error{
		cueerrors.Newf(token.NoPos, "conflicting values %d and %d", 1, 2),
		cueerrors.Newf(token.NoPos, "%s and %s", cue.IntKind, cue.IntKind),
		cueerrors.Newf(token.NoPos, "mismatched types int and struct"),
	} {
		if _, _, ok := kindMismatch(e); ok {
			t.Errorf("%v: a mismatch", e)
		}
	}
	if !shapeMismatch(cueerrors.Newf(token.NoPos, "%v %v", cue.NullKind, cue.ListKind)) {
		t.Error("null and list: not a shape")
	}
	if shapeMismatch(cueerrors.Newf(token.NoPos, "%v %v", cue.IntKind, cue.StructKind)) {
		t.Error("int and struct: a shape")
	}
}

// TestKindErrors: a value of the wrong kind is one error at the user's
// line that names the kinds wanted, and a struct's fields, however deep
// the schema's disjunctions put them.
func TestKindErrors(t *testing.T) {
	s, err := mustSchema(t).Precise()
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 50)
	for _, tc := range []struct{ src, want string }{
		{"type: \"kvm\"\nname: \"web\"\nmemory: 4096\n",
			"memory: 4096 is an int, where a struct {unit, dumpCore, count} belongs:\n    ./doc.cue:3:9\n"},
		{"type: \"kvm\"\nname: \"web\"\ndevices: disk: [{type: \"file\", device: \"disk\", target: \"vda\"}]\n",
			"devices.disk.0.target: \"vda\" is a string, where a struct {dev, bus, tray, removable, rotation_rate, dpofua} belongs:\n    ./doc.cue:3:56\n"},
		{"type: \"kvm\"\nname: {first: \"web\"}\n",
			"name: conflicting values {first:\"web\"} and string (mismatched types struct and string):\n    ./doc.cue:2:7\n"},
		{"type: 5\nname: \"web\"\n",
			"type: conflicting values 5 and string (mismatched types int and string):\n    ./doc.cue:1:7\n"},
		{"type: \"kvm\"\nname: \"web\"\nmemory: \"" + long + "\"\n",
			"memory: a string is given, where a struct {unit, dumpCore, count} belongs:\n    ./doc.cue:3:9\n"},
		{"type: \"kvm\"\nname: \"web\"\ndevices: disk: 1\n",
			"devices.disk: 1 is an int, where a struct {device, type, rawio, sgio, model, snapshot, …} or a list of them belongs:\n    ./doc.cue:3:16\n"},
	} {
		_, err := s.Check(s.Context().CompileString(tc.src, cue.Filename("doc.cue")), KindDomain)
		var b strings.Builder
		PrintError(&b, err, "")
		if b.String() != tc.want {
			t.Errorf("%q:\n%s\nwant\n%s", tc.src, b.String(), tc.want)
		}
	}

	// In a whole-host configuration, through the keyed entries' pattern.
	for src, want := range map[string]Problem{
		"connections: \"test:///default\": domains: web: definition: {type: \"test\", memory: 1}\n": {
			Path: `connections."test:///default".domains.web.definition.memory`, Message: "1 is an int, where a struct {unit, dumpCore, count} belongs", Positions: []string{"./host.cue:1:82"}},
		"connections: \"test:///default\": domains: web: {active: \"yes\"}\n": {
			Path: `connections."test:///default".domains.web.active`, Message: `"yes" is a string, where a bool belongs`, Positions: []string{"./host.cue:1:56"}},
	} {
		_, err = s.CheckConfig(s.Context().CompileString(src, cue.Filename("host.cue")))
		if got := Report(err, ""); !reflect.DeepEqual(got, []Problem{want}) {
			t.Errorf("%q:\n%#v\nwant\n%#v", src, got, want)
		}
	}
}

// TestLoadErrorAtUserLine: a package that unifies with #Config itself
// fails as it loads, and its mistake is named at the user's line, not in
// the schema the loader placed in cue.mod/pkg.
func TestLoadErrorAtUserLine(t *testing.T) {
	s, err := mustSchema(t).Precise()
	if err != nil {
		t.Fatal(err)
	}
	dir := writeTree(t, t.TempDir(), map[string]string{
		"cue.mod/module.cue": "module: \"example.com/lab@v0\"\nlanguage: version: \"v0.17.0\"\n",
		"lab/host.cue": "package lab\n\nimport \"nixvirt.dev/nixvirt/schemas\"\n\nschemas.#Config & {\n" +
			"\tconnections: \"qemu:///system\": domains: \"web/1\": definition: {type: \"kvm\"}\n}\n",
	})
	_, err = s.Load(Input{Dir: dir, Args: []string{"./lab"}}, "")
	want := []Problem{{
		Path:      `connections."qemu:///system".domains."web/1".name`,
		Message:   `invalid value "web/1" (out of bound !~"/")`,
		Positions: []string{"./lab/host.cue:6:42"},
	}}
	if got := Report(err, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("Report:\n%#v\nwant\n%#v", got, want)
	}
}
