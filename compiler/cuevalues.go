package compiler

import (
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"

	"nixvirt.dev/nixvirt/compiler/gocheck"
)

// The Go checker for CUE input. A package that imports none of nixvirt's
// packages evaluates to the same values whether or not the schema is
// compiled beside it: the schema only enters when CheckConfig and Check
// unify those values with it. So CUE evaluates the user's own values
// (their templates included) in a context with no schema, and the Go
// checker validates them and writes the XML as it does for JSON. Whatever
// this path is not sure of takes the CUE path, where the exact schema
// decides and words every error:
//   - a package that imports nixvirt's schemas or templates in a way the
//     light schema cannot stand in for (see cueimports.go);
//   - any error in the package, in a hidden field or a definition too
//     (Validate reports those on the CUE path as well);
//   - a value left open, an optional or required field, a null, a float;
//   - a default outside a document (the entries of #Config have defaults
//     of their own, which a user's default would meet); inside a
//     document it is the value, since the document schema has none (the
//     Go checker's generator refuses defaults): when the Go checker takes
//     the default, the schema takes it too;
//   - a template's #args with a value left open (Check's first test).

// readFastCUE evaluates CUE input as plain values, as JSON, or reports
// false; k is the kind of --kind's document, "" for a #Config. A package
// that imports nixvirt's packages is evaluated with the light schema
// (cueimports.go).
func readFastCUE(in Input, k Kind) (*gocheck.Value, bool) {
	if len(in.Args) == 0 || allJSON(in.Args) {
		return nil, false
	}
	s := &Schema{ctx: cuecontext.New(), files: lightSchemaFiles()}
	inst, err := s.cueInstance(in)
	if err != nil {
		return nil, false
	}
	light := importsNixvirt(inst, map[*build.Instance]bool{})
	if light && (!lightImports(inst) || !lightSyntax(inst.Files)) {
		return nil, false
	}
	v := s.ctx.BuildInstance(inst)
	if v.Err() != nil || v.Validate() != nil {
		return nil, false
	}
	r := &cueReader{light: light, k: k}
	return r.data(v, k != "")
}

// importsNixvirt reports whether a package imports, directly or through
// others, a package of nixvirt's module.
func importsNixvirt(inst *build.Instance, seen map[*build.Instance]bool) bool {
	for _, imp := range inst.Imports {
		if seen[imp] {
			continue
		}
		seen[imp] = true
		if imp.ImportPath == ModulePath || strings.HasPrefix(imp.ImportPath, ModulePath+"/") || importsNixvirt(imp, seen) {
			return true
		}
	}
	return false
}

// cueReader reads an evaluated package as the Go checker reads JSON.
// With light set (a package evaluated with the light schema) it also
// checks, in the same walk, that every light definition's mark is placed
// where a document of that definition belongs (see cueimports.go: the
// marks can only be in regular fields); k is the kind of --kind's
// document, "" for a #Config.
type cueReader struct {
	light bool
	k     Kind
	path  []string
	// entryRoot: the value read is one entry of a #Config (configerrors.go),
	// not the whole configuration.
	entryRoot bool
}

// atDefinition reports whether the path read is an entry's definition:
// only there does the Go checker take a default as the value (a key
// named "definition" elsewhere, an object or a connection so named, is
// not one, and its entry's defaults are the CUE path's to judge).
func (r *cueReader) atDefinition() bool {
	p := r.path
	if len(p) == 0 || p[len(p)-1] != "definition" {
		return false
	}
	if r.entryRoot {
		return len(p) == 1 || len(p) == 3 && p[0] == "volumes"
	}
	if len(p) < 5 || p[0] != "connections" {
		return false
	}
	if len(p) == 5 {
		for _, kind := range TopLevelKinds {
			if p[2] == kind.Plural() {
				return true
			}
		}
		return false
	}
	return len(p) == 7 && p[2] == KindPool.Plural() && p[4] == KindVolume.Plural()
}

// cueData is v as the Go checker reads it, for values evaluated without
// the light schema (configerrors.go's parts of a configuration).
func cueData(v cue.Value, inDoc bool) (*gocheck.Value, bool) {
	return (&cueReader{entryRoot: true}).data(v, inDoc)
}

// data is v as the Go checker reads it; inDoc says that v is inside an
// entry's definition (or is the document of --kind).
func (r *cueReader) data(v cue.Value, inDoc bool) (*gocheck.Value, bool) {
	if d, ok := v.Default(); ok {
		if !inDoc {
			return nil, false
		}
		v = d
	}
	if !v.IsConcrete() {
		return nil, false
	}
	switch v.Kind() {
	case cue.StructKind:
		// Definitions are listed too, for #args (they are not values) and
		// the light schema's marks.
		it, err := v.Fields(cue.Optional(true), cue.Definitions(true))
		if err != nil {
			return nil, false
		}
		out := &gocheck.Value{Type: gocheck.ObjectValue}
		for it.Next() {
			sel := it.Selector()
			if sel.IsDefinition() {
				switch sel.String() {
				case "#args":
					if it.Value().Validate(cue.Concrete(true)) != nil {
						return nil, false
					}
				case lightMark:
					if r.entryRoot {
						// A part of a package evaluated with the light
						// schema, being explained (lightConfigErrors):
						// the exact schema checks it, marks or not.
						continue
					}
					if name, err := it.Value().String(); !r.light || err != nil || name != markAt(r.path, r.k) {
						return nil, false
					}
				}
				continue
			}
			if sel.ConstraintType() != 0 || sel.LabelType() != cue.StringLabel {
				return nil, false
			}
			key := sel.Unquoted()
			r.path = append(r.path, sel.String())
			x, ok := r.data(it.Value(), inDoc || key == "definition" && r.atDefinition())
			r.path = r.path[:len(r.path)-1]
			if !ok {
				return nil, false
			}
			out.Keys, out.Vals = append(out.Keys, key), append(out.Vals, x)
		}
		return out, true
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			return nil, false
		}
		out := &gocheck.Value{Type: gocheck.ArrayValue, Items: []*gocheck.Value{}}
		r.path = append(r.path, "[]")
		defer func() { r.path = r.path[:len(r.path)-1] }()
		for it.Next() {
			x, ok := r.data(it.Value(), inDoc)
			if !ok {
				return nil, false
			}
			out.Items = append(out.Items, x)
		}
		return out, true
	case cue.StringKind:
		s, err := v.String()
		return &gocheck.Value{Type: gocheck.StringValue, S: s}, err == nil
	case cue.BoolKind:
		b, err := v.Bool()
		return &gocheck.Value{Type: gocheck.BoolValue, B: b}, err == nil
	case cue.IntKind:
		n, err := v.Int64()
		return &gocheck.Value{Type: gocheck.NumberValue, S: strconv.FormatInt(n, 10)}, err == nil
	}
	// null, floats, bytes: the CUE path.
	return nil, false
}
