package compiler

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"cuelang.org/go/cue"
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

// TestRelPos: positions are relative to the working directory, JSON and
// stdin positions as given, with "./" in front.
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
		{"-", "/w", "./-:1:1"},
	} {
		if got := relPos(f(tc.name), tc.cwd); got != tc.want {
			t.Errorf("relPos(%s, %q) = %s, want %s", tc.name, tc.cwd, got, tc.want)
		}
	}
}

// TestAlternativeKinds: only the shape mismatches of one-or-list and
// optional fields are left out.
func TestAlternativeKinds(t *testing.T) {
	for msg, want := range map[string]bool{
		"conflicting values [] and {} (mismatched types list and struct)":   true,
		"conflicting values null and {} (mismatched types null and struct)": true,
		"conflicting values 1 and {} (mismatched types int and struct)":     false,
		"conflicting values 1 and 2":                                        false,
		"(mismatched types list)":                                           false,
	} {
		if got := alternativeKinds(msg); got != want {
			t.Errorf("alternativeKinds(%q) = %v", msg, got)
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
