// Package compiler is nixvirt's first stage: it loads CUE, JSON and XML
// inputs, unifies them with the embedded schemas, reports errors with
// their positions, and writes libvirt XML through libvirtxml. It also
// holds the table of kinds (kind.go) and decodes a whole-host
// configuration into Go values (config.go), so that later stages never
// read CUE.
package compiler

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"nixvirt.dev/nixvirt/schemas"
)

// ModulePath is the CUE (and Go) module users import schemas from.
const ModulePath = "nixvirt.dev/nixvirt"

// SchemaImportPath is the import path of the schema package.
const SchemaImportPath = ModulePath + "/schemas"

// Schema is one compiled variant of the schema package. Like the
// cue.Context it holds, it is not safe for concurrent use.
//
// There are two variants of the same definitions. The exact one is the
// package as written: "one element or a list" is the disjunction
// `X | [...X]`, which gives the best error messages but makes CUE clone
// the enclosing document for each alternative. The fast one, used first,
// checks the same fields with matchN validators, which do not clone; when
// anything fails, the input is evaluated again with the exact variant so
// that the user sees its messages (see Run).
type Schema struct {
	ctx     *cue.Context
	value   cue.Value
	files   map[string][]byte // sources, for the loader's overlay
	precise bool
	defs    map[string]cue.Value
	layouts map[string]*layout // the XML writer's view of each definition
}

var (
	schemaOnce  sync.Once
	preciseOnce sync.Once
	fastSchema  *Schema
	exactSchema *Schema
	schemaErr   error
	preciseErr  error
)

// LoadSchema returns the fast variant, compiled once per process. A broken
// embedded schema is an internal error, not a user error.
func LoadSchema() (*Schema, error) {
	schemaOnce.Do(func() {
		fastSchema, schemaErr = compileSchema(cuecontext.New(), false)
	})
	return fastSchema, schemaErr
}

// Precise returns the exact variant, in the same cue.Context.
func (s *Schema) Precise() (*Schema, error) {
	if s.precise {
		return s, nil
	}
	preciseOnce.Do(func() {
		exactSchema, preciseErr = compileSchema(s.ctx, true)
	})
	return exactSchema, preciseErr
}

func compileSchema(ctx *cue.Context, precise bool) (*Schema, error) {
	inst := build.NewContext().NewInstance("", nil)
	inst.ImportPath = SchemaImportPath
	inst.PkgName = "schemas"
	// The exact variant is the embedded package; the fast one was derived
	// from it by `go generate` (compiler/fastschema, internal/schemagen.FastVariant).
	fsys, dir := fs.FS(schemas.Files), "."
	if !precise {
		fsys, dir = fastFiles, "fastschema"
	}
	files := map[string][]byte{}
	for _, name := range cueFiles(fsys, dir) {
		src, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		// Comments are documentation: evaluation does without them.
		f, err := parser.ParseFile(path.Join("$nixvirt/schemas", name), src)
		if err != nil {
			return nil, fmt.Errorf("internal error: embedded schema: %v", err)
		}
		files[name] = src
		if err := inst.AddSyntax(f); err != nil {
			return nil, err
		}
	}
	v := ctx.BuildInstance(inst)
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("internal error: embedded schema: %v", err)
	}
	return &Schema{ctx: ctx, value: v, files: files, precise: precise,
		defs: map[string]cue.Value{}, layouts: map[string]*layout{}}, nil
}

// fastFiles is the fast variant of the schema package.
//
//go:embed fastschema/*.cue
var fastFiles embed.FS

func cueFiles(fsys fs.FS, dir string) []string {
	entries, _ := fs.ReadDir(fsys, dir)
	var names []string
	for _, e := range entries {
		if path.Ext(e.Name()) == ".cue" {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Context is the cue.Context every value of this process is built in.
func (s *Schema) Context() *cue.Context { return s.ctx }

// Def returns a definition of the schema package, such as "#Domain".
func (s *Schema) Def(name string) cue.Value {
	d, ok := s.defs[name]
	if !ok {
		d = s.value.LookupPath(cue.ParsePath(name))
		s.defs[name] = d
	}
	return d
}
