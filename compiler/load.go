package compiler

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/load"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/json"

	"nixvirt.dev/nixvirt/compiler/gocheck"
	"nixvirt.dev/nixvirt/templates"
)

// Input is what the user named on the command line: arguments relative
// to Dir, and the bytes of stdin when an argument reads it ("-" or
// /dev/stdin). stdin is read once, by ReadInput, so that loading again
// (the exact schema's retry) sees the same input.
type Input struct {
	Dir   string
	Args  []string
	Stdin []byte
	// Streams are the bytes of the arguments that can be read only once
	// (a named pipe, a character device), read by ReadInput and keyed by
	// the argument as given: the Go checker's path, then the CUE path and
	// its retry all read these bytes, where reading the pipe again would
	// wait for ever.
	Streams map[string][]byte
	// Read, when not nil, is set to what Load or LoadSettings read from
	// disk (XML files that definitions name are read later, by Compile:
	// they are the Objects' XMLFile).
	Read *Inputs
}

// ReadInput makes the Input of args, reading r when an argument is stdin.
func ReadInput(dir string, args []string, r io.Reader) (Input, error) {
	in := Input{Dir: dir, Args: append([]string(nil), args...)}
	if len(in.Args) == 0 {
		in.Args = []string{"."}
	}
	for i, a := range in.Args {
		if err := notDirectory(dir, a); err != nil {
			return in, err
		}
		if !isStdin(a) {
			data, stream, err := readStream(dir, a)
			if err != nil {
				return in, err
			}
			switch ext := filepath.Ext(a); {
			case !stream:
				continue
			case ext == ".json" || ext == ".cue":
				if in.Streams == nil {
					in.Streams = map[string][]byte{}
				}
				in.Streams[a] = data
				continue
			case in.Stdin != nil:
				return in, fmt.Errorf("%s: give one input that is read as stdin (-, or a pipe such as <(…) whose name says neither .json nor .cue)", a)
			}
			// A pipe with no name to tell its language, as bash's <(…)
			// gives, is read as stdin is: CUE, of which JSON is part.
			in.Stdin = data
			in.Args[i] = "-"
			continue
		}
		if in.Stdin == nil {
			data, err := io.ReadAll(r)
			if err != nil {
				return in, fmt.Errorf("%s: %v", a, err)
			}
			in.Stdin = data
		}
		in.Args[i] = "-"
	}
	return in, nil
}

// readStream reads argument a, relative to dir, when it is a named pipe,
// a socket or a device, which give their bytes once; it reports false,
// reading nothing, for files, directories and what does not exist (the
// loaders read and word those).
func readStream(dir, a string) ([]byte, bool, error) {
	name := a
	if !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	fi, err := os.Stat(name)
	if err != nil || fi.Mode().IsRegular() || fi.IsDir() {
		return nil, false, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, true, fileError(a, err)
	}
	return data, true, nil
}

// fileInputs are FileInputs of args, Opaque when a stream is among them:
// a pipe's bytes are gone once read, so nothing can tell later whether it
// would give the same again.
func (in Input) fileInputs(args []string) Inputs {
	read := FileInputs(in.Dir, args)
	for _, a := range args {
		if _, ok := in.Streams[a]; ok {
			read.Opaque = true
		}
	}
	return read
}

// readArg reads argument a: stdin's bytes for "-", a stream's kept bytes,
// else the file, relative to in.Dir.
func (in Input) readArg(a string) ([]byte, error) {
	if a == "-" {
		return in.Stdin, nil
	}
	if data, ok := in.Streams[a]; ok {
		return data, nil
	}
	name := a
	if !filepath.IsAbs(name) {
		name = filepath.Join(in.Dir, name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fileError(a, err)
	}
	return data, nil
}

// notDirectory refuses a file named as a directory ("host.json/"): cue
// would load the directory part as a package of no files and find it
// valid.
func notDirectory(dir, a string) error {
	if !strings.HasSuffix(a, "/") {
		return nil
	}
	name := a
	if !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	if fi, err := os.Stat(strings.TrimRight(name, "/")); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", a)
	}
	return nil
}

// isStdin reports the arguments that name stdin: cue's "-" and the
// device files, which cue cannot load as files (they are outside any
// module).
func isStdin(a string) bool {
	return a == "-" || a == "/dev/stdin" || a == "/proc/self/fd/0" || a == "/dev/fd/0"
}

// Load builds the value of the user's arguments: .cue files, package
// directories (default "."), .json files, or "-" for stdin. expr, if set,
// selects a value inside it, as cue's -e does.
func (s *Schema) Load(in Input, expr string) (cue.Value, error) {
	if len(in.Args) == 0 {
		in.Args = []string{"."}
	}
	var v cue.Value
	var err error
	if allJSON(in.Args) {
		v, err = s.loadJSON(in)
		if in.Read != nil {
			*in.Read = in.fileInputs(in.Args)
		}
	} else {
		v, err = s.loadCUE(in)
	}
	if err != nil {
		return v, err
	}
	if expr != "" {
		x := s.ctx.CompileString(expr, cue.Scope(v), cue.InferBuiltins(true), cue.Filename("<-e>"))
		if x.Err() != nil {
			return x, x.Err()
		}
		if !x.Exists() {
			return x, fmt.Errorf("-e %s: no such value", expr)
		}
		v = x
	}
	return v, nil
}

func allJSON(args []string) bool { return gocheck.AllJSON(args) }

func (s *Schema) loadJSON(in Input) (cue.Value, error) {
	// The first document is the value itself, not unified with top, so
	// that it keeps its position: a field missing from the whole document
	// is reported at the document's start.
	var v cue.Value
	for i, a := range in.Args {
		data, err := in.readArg(a)
		if err != nil {
			return v, err
		}
		// Positions use the argument as given, so messages do not depend
		// on where the command ran.
		if err := invalidUTF8(a, data); err != nil {
			return v, err
		}
		x, err := json.Extract(a, data)
		if err != nil {
			return v, err
		}
		if !s.precise {
			dropNullFields(x)
		}
		jv := s.ctx.BuildExpr(x)
		if jv.Err() != nil {
			return v, jv.Err()
		}
		if i == 0 {
			v = jv
		} else {
			v = v.Unify(jv)
		}
	}
	return v, v.Err()
}

// LoadSettings reads NixVirt's per-connection settings file (JSON). A kind
// its module writes as null (not managed) is read as absent.
// Its XML paths are relative to the file (Objects reads them from the
// positions).
func (s *Schema) LoadSettings(in Input, expr string) (cue.Value, error) {
	file := in.Args[0]
	data, err := in.readArg(file)
	if err != nil {
		return cue.Value{}, err
	}
	if err := invalidUTF8(file, data); err != nil {
		return cue.Value{}, err
	}
	x, err := json.Extract(file, data)
	if err != nil {
		return cue.Value{}, err
	}
	if in.Read != nil && file != "-" {
		*in.Read = in.fileInputs(in.Args[:1])
	}
	if st, ok := x.(*ast.StructLit); ok && s.precise {
		// A kind the module writes as null is not managed: absent. The
		// nulls inside are read as written (see dropNullFields).
		keep := st.Elts[:0]
		for _, d := range st.Elts {
			if f, ok := d.(*ast.Field); ok {
				if lit, ok := f.Value.(*ast.BasicLit); ok && lit.Kind == token.NULL {
					continue
				}
			}
			keep = append(keep, d)
		}
		st.Elts = keep
	} else if !s.precise {
		dropNullFields(x)
	}
	v := s.ctx.BuildExpr(x)
	if v.Err() != nil {
		return v, v.Err()
	}
	if expr != "" {
		v = v.LookupPath(cue.ParsePath(expr))
	}
	return v, v.Err()
}

// invalidUTF8 says where a JSON file is not UTF-8, which JSON must be:
// cue's decoder reports it with no reason at all.
func invalidUTF8(name string, data []byte) error {
	if utf8.Valid(data) {
		return nil
	}
	off := 0
	for off < len(data) {
		r, n := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		off += n
	}
	f := token.NewFile(name, -1, len(data))
	f.SetLinesForContent(data)
	return errors.Newf(f.Pos(off, token.NoRelPos), "invalid UTF-8: byte 0x%02x at byte offset %d; JSON text must be UTF-8 (convert it from its encoding, e.g. iconv -f LATIN1 -t UTF-8)", data[off], off)
}

// fileDir is the directory of the file v is written in, for the paths it
// names: cue gives absolute file names; JSON files are named as the user
// gave them, relative to cwd; stdin and -e have no directory but cwd.
func fileDir(v cue.Value, cwd string) string {
	f := userPos(v).Filename()
	switch {
	case f == "" || f == "-" || strings.HasPrefix(f, "<") || isSchemaFile(f):
		return cwd
	case filepath.IsAbs(f):
		return filepath.Dir(f)
	}
	return filepath.Join(cwd, filepath.Dir(f))
}

// fileError says which argument could not be read, without Go's "open"
// wording.
func fileError(arg string, err error) error {
	if os.IsNotExist(err) {
		return fmt.Errorf("%s: no such file", arg)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", arg, pe.Err)
	}
	return err
}

// loadCUE loads CUE files or one package, as cue does: the module is the
// one enclosing the package's directory (not the working directory's), so
// that neither the directory nixvirt runs in nor its ancestors add files
// to it. Outside any module, a virtual module is rooted at the package's
// own directory. The embedded schemas and templates are placed, through
// the loader's overlay, where `import "nixvirt.dev/nixvirt/schemas"` (and
// …/templates) finds them, so user packages need no registry and no copy
// of them.
func (s *Schema) loadCUE(in Input) (cue.Value, error) {
	if s.precise {
		// A package that imports nixvirt's packages, explained entry by
		// entry when it is wrong (see lightConfigErrors).
		if err, ok := s.lightConfigErrors(in); ok {
			return cue.Value{}, err
		}
	}
	inst, err := s.cueInstance(in)
	if err != nil {
		return cue.Value{}, err
	}
	v := s.ctx.BuildInstance(inst)
	// A package that unifies with the schema itself (schemas.#Config &
	// {…}) fails here, not in Check: its errors too are in the user's terms.
	err = v.Err()
	if err != nil {
		// Err is the first error only; Validate finds them all, as cue
		// vet reports them. Those at the first error's path restate it
		// (a failed interpolation of the value, …): the others are added.
		first := errors.Errors(err)
		reported := map[string]bool{}
		for _, e := range first {
			reported[strings.Join(e.Path(), ".")] = true
		}
		for _, e := range errors.Errors(v.Validate()) {
			if !reported[strings.Join(e.Path(), ".")] {
				err = errors.Append(errors.Promote(err, ""), e)
			}
		}
	}
	return v, userErrors(err, v, v)
}

// cueInstance is loadCUE's package, loaded but not yet evaluated.
func (s *Schema) cueInstance(in Input) (*build.Instance, error) {
	pkgDir := ""
	args := make([]string, len(in.Args))
	for i, a := range in.Args {
		if a == "-" {
			args[i] = a
			continue
		}
		p := a
		if !filepath.IsAbs(p) {
			p = filepath.Join(in.Dir, p)
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fileError(a, err)
		}
		d := p
		if !fi.IsDir() {
			d = filepath.Dir(p)
			// cue's loader skips a file it does not know by its name, which
			// would make the input silently empty.
			switch ext := filepath.Ext(p); {
			case ext == ".xml":
				return nil, fmt.Errorf("%s is libvirt XML: turn it into CUE with nixvirt import %s, or name it as an entry's definition in a configuration", a, a)
			case ext != ".cue" && ext != ".json":
				return nil, fmt.Errorf("%s: give .cue or .json files, or a package directory", a)
			}
		} else if files, _ := filepath.Glob(filepath.Join(p, "*.cue")); len(files) == 0 {
			where := a
			if filepath.Clean(a) == "." {
				where = "the current directory"
			}
			return nil, fmt.Errorf("%s has no .cue files: give a package directory, .cue files or .json files (nixvirt vet ./host)", where)
		}
		if pkgDir == "" {
			pkgDir = d
		} else if fi.IsDir() || d != pkgDir {
			return nil, fmt.Errorf("%s: give one package directory, or files of one directory", a)
		}
		args[i] = p
	}
	if pkgDir == "" {
		pkgDir = in.Dir
	}
	root, own := moduleRoot(pkgDir)
	overlay := map[string]load.Source{}
	if root == "" {
		root = pkgDir
		overlay[filepath.Join(root, "cue.mod", "module.cue")] = load.FromString(
			"module: \"nixvirt.local/user@v0\"\nlanguage: version: \"v0.17.0\"\n")
	}
	// Arguments as paths inside the module, which is where cue's loader
	// takes them from.
	for i, a := range args {
		if a == "-" {
			continue
		}
		rel, err := filepath.Rel(root, a)
		if err != nil {
			return nil, err
		}
		args[i] = "./" + filepath.ToSlash(rel)
	}
	// In nixvirt's own module (its examples) the schemas directory is the
	// package itself; elsewhere it is placed in cue.mod/pkg. Either way the
	// overlay holds this variant's sources.
	embedDir := filepath.Join(root, "cue.mod", "pkg", filepath.FromSlash(ModulePath))
	if own {
		embedDir = root
	}
	for name, src := range s.files {
		overlay[filepath.Join(embedDir, "schemas", name)] = load.FromBytes(src)
	}
	for name, src := range templateFiles() {
		overlay[filepath.Join(embedDir, "templates", name)] = load.FromBytes(src)
	}
	// A pipe given as a .cue file is not read again: the loader reads the
	// bytes ReadInput kept.
	for a, data := range in.Streams {
		if !filepath.IsAbs(a) {
			a = filepath.Join(in.Dir, a)
		}
		overlay[a] = load.FromBytes(data)
	}
	cfg := &load.Config{Dir: root, ModuleRoot: root, Overlay: overlay, Stdin: bytes.NewReader(in.Stdin)}
	insts := load.Instances(args, cfg)
	if len(insts) != 1 {
		return nil, fmt.Errorf("%d packages given; give one package or a list of files of one package", len(insts))
	}
	if err := insts[0].Err; err != nil {
		if msg := noPackageLine(insts[0], err, in.Dir); msg != nil {
			return nil, msg
		}
		return nil, err
	}
	if in.Read != nil {
		*in.Read = instanceInputs(insts[0], root)
		in.Read.Opaque = in.Read.Opaque || len(in.Streams) > 0
	}
	return insts[0], nil
}

// noPackageLine says, in nixvirt's words, why a directory whose CUE files
// have no package clause loads as no package at all: cue leaves such files
// out of a directory's package (err is its "no files" error then), since
// only files named one by one may have none.
func noPackageLine(inst *build.Instance, err error, cwd string) error {
	var noFiles *load.NoFilesError
	if !errors.As(err, &noFiles) {
		return nil
	}
	var names []string
	for _, f := range inst.IgnoredFiles {
		if strings.HasPrefix(filepath.Base(f.Filename), "_") {
			continue
		}
		src, rerr := os.ReadFile(f.Filename)
		if rerr != nil {
			return nil
		}
		syntax, perr := parser.ParseFile(f.Filename, src, parser.PackageClauseOnly)
		if perr != nil || syntax.PackageName() != "" {
			return nil
		}
		names = append(names, f.Filename)
	}
	if len(names) == 0 {
		return nil
	}
	dir := relativeName(inst.Dir, cwd)
	var bases, paths []string
	for _, n := range names {
		bases = append(bases, filepath.Base(n))
		paths = append(paths, relativeName(n, cwd))
	}
	have := bases[0] + " has"
	if len(bases) > 1 {
		have = strings.Join(bases[:len(bases)-1], ", ") + " and " + bases[len(bases)-1] + " have"
	}
	return fmt.Errorf("%s: %s no package line: the .cue files of a directory load as one package, so start each with the same line, such as `package host`, or name the files themselves (%s)", dir, have, strings.Join(paths, " "))
}

// relativeName is name as cue prints a position's file: relative to cwd
// with a leading ./ when it is below it.
func relativeName(name, cwd string) string {
	if rel, err := filepath.Rel(cwd, name); err == nil && !strings.HasPrefix(rel, "..") {
		if rel == "." {
			return "."
		}
		return "./" + rel
	}
	return name
}

// templateFiles are the embedded templates, read once.
var templateFiles = sync.OnceValue(func() map[string][]byte {
	out := map[string][]byte{}
	entries, _ := fs.ReadDir(templates.Files, ".")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".cue") {
			src, err := fs.ReadFile(templates.Files, e.Name())
			if err == nil {
				out[e.Name()] = src
			}
		}
	}
	return out
})

// moduleRoot finds the enclosing CUE module and whether it is nixvirt's own
// (whose schemas directory is the real package).
func moduleRoot(dir string) (root string, own bool) {
	for d := dir; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(filepath.Join(d, "cue.mod")); err == nil && fi.IsDir() {
			data, _ := os.ReadFile(filepath.Join(d, "cue.mod", "module.cue"))
			return d, strings.Contains(string(data), "\""+ModulePath+"@")
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// pathError is an error about one value, printed as cue prints its own:
// the value path, the message, then the position in the user's file.
type pathError struct {
	path []string
	pos  token.Pos
	msg  string
}

func (e *pathError) Position() token.Pos         { return e.pos }
func (e *pathError) InputPositions() []token.Pos { return nil }
func (e *pathError) Error() string {
	return errors.String(e)
}
func (e *pathError) Path() []string               { return e.path }
func (e *pathError) Msg() (string, []interface{}) { return "%s", []interface{}{e.msg} }

func newPathError(v cue.Value, msg string, args ...interface{}) *pathError {
	var path []string
	for _, sel := range v.Path().Selectors() {
		path = append(path, sel.String())
	}
	return &pathError{path: path, pos: userPos(v), msg: fmt.Sprintf(msg, args...)}
}

// dropNullFields removes the fields of JSON structs whose value is null,
// at any depth: null means absent, as in NixVirt, which leaves such
// attributes out. The fast schema variant has no null (it would cost
// every optional element a disjunction), so JSON reaches it without them;
// the exact variant reads them as written, so that a null where a value is
// required is reported as such. A null list item is kept: it is an error.
func dropNullFields(x ast.Expr) {
	switch x := x.(type) {
	case *ast.StructLit:
		keep := x.Elts[:0]
		for _, d := range x.Elts {
			if f, ok := d.(*ast.Field); ok {
				if lit, ok := f.Value.(*ast.BasicLit); ok && lit.Kind == token.NULL {
					continue
				}
				dropNullFields(f.Value)
			}
			keep = append(keep, d)
		}
		x.Elts = keep
	case *ast.ListLit:
		for _, e := range x.Elts {
			dropNullFields(e)
		}
	}
}
