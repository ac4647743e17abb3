// Package compiler is nixvirt's first stage: it loads CUE, JSON and XML
// inputs, unifies them with the embedded schemas, reports errors with
// their positions, and writes libvirt XML through libvirtxml.
package compiler

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"nixvirt.dev/nixvirt/schemas"
)

// ModulePath is the CUE (and Go) module users import schemas from.
const ModulePath = "nixvirt.dev/nixvirt"

// SchemaImportPath is the import path of the schema package.
const SchemaImportPath = ModulePath + "/schemas"

// Kind is a libvirt document kind.
type Kind string

const (
	KindDomain  Kind = "domain"
	KindNetwork Kind = "network"
	KindPool    Kind = "pool"
	KindVolume  Kind = "volume"
)

// Kinds lists the document kinds in the order apply handles them.
var Kinds = []Kind{KindNetwork, KindPool, KindVolume, KindDomain}

// Definition is the schema definition of the kind.
func (k Kind) Definition() string {
	switch k {
	case KindDomain:
		return "#Domain"
	case KindNetwork:
		return "#Network"
	case KindPool:
		return "#Pool"
	case KindVolume:
		return "#Volume"
	}
	return ""
}

// ParseKind checks a --kind flag value.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown kind %q: want domain, network, pool or volume", s)
}

// Schema is the compiled schema package. One is built per cue.Context.
type Schema struct {
	ctx   *cue.Context
	value cue.Value
}

var (
	schemaOnce sync.Once
	schemaVal  *Schema
	schemaErr  error
)

// LoadSchema compiles the embedded schema package once per process. A
// broken embedded schema is an internal error, not a user error.
func LoadSchema() (*Schema, error) {
	schemaOnce.Do(func() {
		ctx := cuecontext.New()
		inst := build.NewContext().NewInstance("", nil)
		inst.ImportPath = SchemaImportPath
		inst.PkgName = "schemas"
		for _, name := range schemaFiles() {
			src, err := fs.ReadFile(schemas.Files, name)
			if err != nil {
				schemaErr = err
				return
			}
			f, err := parser.ParseFile(path.Join("$nixvirt/schemas", name), src, parser.ParseComments)
			if err != nil {
				schemaErr = fmt.Errorf("internal error: embedded schema: %v", err)
				return
			}
			if err := inst.AddSyntax(f); err != nil {
				schemaErr = err
				return
			}
		}
		v := ctx.BuildInstance(inst)
		if err := v.Err(); err != nil {
			schemaErr = fmt.Errorf("internal error: embedded schema: %v", err)
			return
		}
		schemaVal = &Schema{ctx: ctx, value: v}
	})
	return schemaVal, schemaErr
}

func schemaFiles() []string {
	entries, _ := fs.ReadDir(schemas.Files, ".")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// Context is the cue.Context every value of this process is built in.
func (s *Schema) Context() *cue.Context { return s.ctx }

// Def returns a definition of the schema package, such as "#Domain".
func (s *Schema) Def(name string) cue.Value {
	return s.value.LookupPath(cue.ParsePath(name))
}

var _ ast.Node
