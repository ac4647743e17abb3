package compiler

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"
)

// TestReadInput: no argument is the package in ".", and stdin is read once
// however many arguments name it, so that the exact schema's second load
// sees the same bytes.
func TestReadInput(t *testing.T) {
	in, err := ReadInput("/w", nil, strings.NewReader("unused"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Args, []string{"."}) || in.Stdin != nil || in.Dir != "/w" {
		t.Errorf("no arguments: %+v", in)
	}

	args := []string{"/dev/stdin", "a.cue", "-", "/dev/fd/0", "/proc/self/fd/0"}
	in, err = ReadInput("/w", args, iotest.OneByteReader(strings.NewReader("x: 1\n")))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"-", "a.cue", "-", "-", "-"}; !reflect.DeepEqual(in.Args, want) {
		t.Errorf("args %q, want %q", in.Args, want)
	}
	if string(in.Stdin) != "x: 1\n" {
		t.Errorf("stdin %q", in.Stdin)
	}
	if args[0] != "/dev/stdin" {
		t.Errorf("ReadInput changed its caller's arguments: %q", args)
	}

	_, err = ReadInput("/w", []string{"-"}, iotest.ErrReader(errors.New("boom")))
	if err == nil || err.Error() != "-: boom" {
		t.Errorf("failing stdin: %v", err)
	}
}

// TestLoadCUE loads the forms of CUE input a user gives: files, a package
// directory (one package, in the module around it, with the embedded
// schemas importable), stdin, and -e.
func TestLoadCUE(t *testing.T) {
	s := mustSchema(t)
	root := writeTree(t, t.TempDir(), map[string]string{
		// A stray file of the same package and a broken one in the
		// directory above the package: neither is part of it.
		"stray.cue":  "package host\nextra: 1\n",
		"broken.cue": "package other\nx:\n",
		"host/a.cue": `package host

import "nixvirt.dev/nixvirt/schemas"

web: schemas.#Domain & {type: "test", name: "web", os: type: "hvm"}
`,
		"host/b.cue":             "package host\n\nnet: name: \"lab\"\n",
		"host/notes.txt":         "not CUE",
		"plain/one.cue":          "name: \"one\"\n",
		"plain/two.cue":          "type: \"kvm\"\n",
		"empty/readme.txt":       "no CUE here",
		"mod/cue.mod/module.cue": "module: \"example.com/lab@v0\"\nlanguage: version: \"v0.17.0\"\n",
		"mod/lab/lab.cue": `package lab

import "nixvirt.dev/nixvirt/templates"

net: templates.#Bridge & {#args: {uuid: "5f0e8a47-66b2-4d59-9c3c-2f1b1c8e9d01", subnet_byte: 71}}
`,
	})
	for _, tc := range []struct {
		name string
		dir  string // the working directory, relative to root
		args []string
		expr string
		// check names a path whose string value is want.
		path, want string
		// absent is a path the loaded value must not have.
		absent string
	}{
		{name: "package directory", args: []string{"host"}, path: "net.name", want: "lab", absent: "extra"},
		{name: "package from inside", dir: "host", args: nil, path: "web.name", want: "web", absent: "extra"},
		{name: "files of one package", dir: "host", args: []string{"a.cue", "b.cue"}, path: "net.name", want: "lab"},
		{name: "one file", args: []string{"plain/one.cue"}, path: "name", want: "one", absent: "type"},
		{name: "two files", args: []string{"plain/one.cue", "plain/two.cue"}, path: "type", want: "kvm"},
		{name: "absolute file", args: []string{filepath.Join(root, "plain", "two.cue")}, path: "type", want: "kvm"},
		{name: "-e selects", args: []string{"host"}, expr: "net", path: "name", want: "lab", absent: "web"},
		{name: "template in a module", args: []string{"mod/lab"}, path: "net.ip.address", want: "192.168.71.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := s.Load(Input{Dir: filepath.Join(root, tc.dir), Args: tc.args}, tc.expr)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := stringAt(v, tc.path); got != tc.want {
				t.Errorf("%s = %q, want %q", tc.path, got, tc.want)
			}
			if tc.absent != "" && v.LookupPath(cue.ParsePath(tc.absent)).Exists() {
				t.Errorf("%s is there: a file outside what was named was loaded", tc.absent)
			}
		})
	}

	// Positions name the user's file, wherever the command runs.
	v, err := s.Load(Input{Dir: root, Args: []string{"plain/one.cue"}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if p := v.LookupPath(cue.ParsePath("name")).Pos(); p.Filename() != filepath.Join(root, "plain", "one.cue") || p.Line() != 1 {
		t.Errorf("position of name: %v", p)
	}

	// stdin, as "-".
	v, err = s.Load(Input{Dir: root, Args: []string{"-"}, Stdin: []byte("name: \"piped\"\n")}, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := stringAt(v, "name"); got != "piped" {
		t.Errorf("stdin: name = %q", got)
	}
}

// TestLoadErrors: what the user named and cannot be loaded is an error
// saying which argument and why.
func TestLoadErrors(t *testing.T) {
	s := mustSchema(t)
	root := writeTree(t, t.TempDir(), map[string]string{
		"a/a.cue":         "package a\nx: 1\n",
		"b/b.cue":         "package b\ny: 2\n",
		"empty/notes.txt": "",
		"bad.cue":         "a: 1\nb: )\n",
		"bad.json":        "{\"type\": \"kvm\",\n \"name\": \"web\",\n",
		"conflict.cue":    "x: 1\nx: 2\n",
		"two/p.cue":       "package p\nx: 1\n",
		"two/q.cue":       "package q\ny: 1\n",
	})
	for _, tc := range []struct {
		name string
		dir  string
		args []string
		expr string
		want string // a substring of the message
		// pos is "file:line" of the error's first position, when it has one.
		pos string
	}{
		{name: "missing file", args: []string{"nosuch.cue"}, want: "nosuch.cue: no such file"},
		{name: "missing JSON", args: []string{"nosuch.json"}, want: "nosuch.json: no such file"},
		{name: "directory without CUE", args: []string{"empty"}, want: "empty has no .cue files"},
		{name: "current directory without CUE", dir: "empty", args: []string{"."}, want: "the current directory has no .cue files"},
		{name: "two packages", args: []string{"a", "b"}, want: "b: give one package directory, or files of one directory"},
		{name: "files of two directories", args: []string{"a/a.cue", "b/b.cue"}, want: "b/b.cue: give one package directory"},
		{name: "syntax error", args: []string{"bad.cue"}, pos: "bad.cue:2"},
		{name: "invalid JSON", args: []string{"bad.json"}, want: "invalid JSON", pos: "bad.json:2"},
		{name: "conflict", args: []string{"conflict.cue"}, want: "conflicting values", pos: "conflict.cue:1"},
		{name: "-e of nothing", args: []string{"a"}, expr: "nothing", want: "reference \"nothing\" not found"},
		{name: "-e of a missing field", args: []string{"a"}, expr: "x.y", want: "invalid operand x"},
		{name: "two packages in one directory", args: []string{"two"}, want: "found packages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Load(Input{Dir: filepath.Join(root, tc.dir), Args: tc.args}, tc.expr)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if tc.pos != "" {
				ps := cueerrors.Positions(err)
				if len(ps) == 0 {
					t.Fatalf("error %q has no position, want %s", err, tc.pos)
				}
				got := filepath.Base(ps[0].Filename()) + ":" + strconv.Itoa(ps[0].Line())
				if got != tc.pos {
					t.Errorf("error %q at %s, want %s", err, got, tc.pos)
				}
			}
		})
	}
}

// TestLoadJSON: JSON files unify, positions keep the file name as the user
// gave it, and a null field means absent to the fast schema (which has no
// null) but is read as written by the exact one, which alone can say that a
// null stands where a value is required. A null list entry is kept for both:
// it is a mistake.
func TestLoadJSON(t *testing.T) {
	root := writeTree(t, t.TempDir(), map[string]string{
		"web.json":   `{"type": "kvm", "name": "web", "uuid": null, "os": {"type": "hvm", "loader": null}, "devices": {"disk": [null]}}`,
		"extra.json": `{"memory": {"count": 1, "unit": "GiB"}}`,
	})
	for _, s := range bothSchemas(t) {
		t.Run(variant(s), func(t *testing.T) {
			v, err := s.Load(Input{Dir: root, Args: []string{"web.json", "extra.json"}}, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := stringAt(v, "os.type"); got != "hvm" {
				t.Errorf("os.type = %q", got)
			}
			if n, _ := v.LookupPath(cue.ParsePath("memory.count")).Int64(); n != 1 {
				t.Errorf("the second file is not unified: memory.count = %d", n)
			}
			if p := v.LookupPath(cue.ParsePath("name")).Pos(); p.Filename() != "web.json" {
				t.Errorf("position of name: %v, want web.json", p)
			}
			for _, path := range []string{"uuid", "os.loader"} {
				x := v.LookupPath(cue.ParsePath(path))
				if s.precise && !x.IsNull() {
					t.Errorf("%s: exact schema: want null as written, got %v", path, x)
				}
				if !s.precise && x.Exists() {
					t.Errorf("%s: fast schema: want the null field dropped, got %v", path, x)
				}
			}
			if !v.LookupPath(cue.ParsePath("devices.disk[0]")).IsNull() {
				t.Errorf("a null list entry must be kept for the schema to refuse")
			}
			// -e works on JSON too.
			x, err := s.Load(Input{Dir: root, Args: []string{"web.json"}}, "os")
			if err != nil || stringAt(x, "type") != "hvm" {
				t.Errorf("-e os: %v, %v", x, err)
			}
		})
	}
}

// TestLoadSettings reads NixVirt's settings file of one connection: a kind
// written as null is not managed (absent) for both variants; nulls inside
// are dropped for the fast schema and kept for the exact one.
func TestLoadSettings(t *testing.T) {
	root := writeTree(t, t.TempDir(), map[string]string{
		"settings.json": `{"domains": [{"definition": "./web.xml", "active": null}], "networks": null, "pools": null}`,
	})
	for _, s := range bothSchemas(t) {
		t.Run(variant(s), func(t *testing.T) {
			v, err := s.LoadSettings(Input{Dir: root, Args: []string{"settings.json"}}, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"networks", "pools"} {
				if v.LookupPath(cue.ParsePath(k)).Exists() {
					t.Errorf("%s: null must be absent (not managed)", k)
				}
			}
			active := v.LookupPath(cue.ParsePath("domains[0].active"))
			if s.precise != active.Exists() {
				t.Errorf("active: null: exists=%v in the %s variant", active.Exists(), variant(s))
			}
			if got := stringAt(v, "domains[0].definition"); got != "./web.xml" {
				t.Errorf("definition = %q", got)
			}
			// From stdin, and with -e.
			in := Input{Dir: root, Args: []string{"-"}, Stdin: []byte(`{"domains": [{"name": "a", "present": false}]}`)}
			x, err := s.LoadSettings(in, "domains[0]")
			if err != nil || stringAt(x, "name") != "a" {
				t.Errorf("stdin with -e: %v, %v", x, err)
			}
		})
	}
	s := mustSchema(t)
	_, err := s.LoadSettings(Input{Dir: root, Args: []string{"nowhere.json"}}, "")
	if err == nil || err.Error() != "nowhere.json: no such file" {
		t.Errorf("missing settings: %v", err)
	}
	_, err = s.LoadSettings(Input{Dir: root, Args: []string{"-"}, Stdin: []byte("{\n\"domains\": [,\n")}, "")
	if ps := cueerrors.Positions(err); err == nil || len(ps) == 0 || ps[0].Filename() != "-" {
		t.Errorf("invalid settings from stdin: %v at %v", err, ps)
	}
}

// TestFileError names the argument without Go's "open …" wording.
func TestFileError(t *testing.T) {
	s := mustSchema(t)
	dir := writeTree(t, t.TempDir(), map[string]string{"d.json/x": ""})
	_, err := s.Load(Input{Dir: dir, Args: []string{"d.json"}}, "")
	if err == nil || err.Error() != "d.json: is a directory" {
		t.Errorf("a directory named .json: %v", err)
	}
}

// TestInvalidUTF8JSON: JSON that is not UTF-8 is refused with the reason
// and where, for a document as for a settings file (cue's decoder gives
// no reason at all).
func TestInvalidUTF8JSON(t *testing.T) {
	s := mustSchema(t)
	dir := writeTree(t, t.TempDir(), map[string]string{
		"web.json":      "{\"type\": \"kvm\",\n \"name\": \"caf\xe9\"}\n",
		"settings.json": "{\"domains\": [{\"definition\": \"\xff.xml\"}]}",
	})
	for _, c := range []struct {
		load func(Input) error
		file string
		want string
	}{
		{func(in Input) error { _, err := s.Load(in, ""); return err }, "web.json",
			"invalid UTF-8: byte 0xe9 at byte offset 29; JSON text must be UTF-8 (convert it from its encoding, e.g. iconv -f LATIN1 -t UTF-8):\n    ./web.json:2:14\n"},
		{func(in Input) error { _, err := s.LoadSettings(in, ""); return err }, "settings.json",
			"invalid UTF-8: byte 0xff at byte offset 29; JSON text must be UTF-8 (convert it from its encoding, e.g. iconv -f LATIN1 -t UTF-8):\n    ./settings.json:1:30\n"},
	} {
		in, err := ReadInput(dir, []string{c.file}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		PrintError(&out, c.load(in), dir)
		if out.String() != c.want {
			t.Errorf("%s:\n%s\nwant\n%s", c.file, out.String(), c.want)
		}
	}
}

// TestReadInputPipe: a named pipe is read once, by ReadInput, and every
// load after it (the Go checker's, the CUE path's, the exact schema's
// retry) reads the bytes kept; a pipe whose name says neither .json nor
// .cue is read as stdin is.
func TestReadInputPipe(t *testing.T) {
	dir := t.TempDir()
	feed := func(name, body string) {
		t.Helper()
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
		go func() {
			// Opened once: a second reader would wait for ever.
			f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY, 0)
			if err == nil {
				_, _ = f.WriteString(body) // the test reads what arrived
				f.Close()
			}
		}()
	}
	feed("web.json", `{"name": "web"}`)
	feed("fd63", `name: "db"`)
	in, err := ReadInput(dir, []string{"web.json"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := mustSchema(t)
	for i := 0; i < 2; i++ {
		v, err := s.Load(in, "")
		if err != nil {
			t.Fatal(err)
		}
		if name, _ := v.LookupPath(cue.ParsePath("name")).String(); name != "web" {
			t.Errorf("load %d: name %q", i, name)
		}
	}
	in, err = ReadInput(dir, []string{"fd63"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Args, []string{"-"}) || string(in.Stdin) != `name: "db"` {
		t.Errorf("a pipe of no language: %+v", in)
	}
}
