package compiler

import (
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
)

// The Go checker for CUE input. A package that imports none of nixvirt's
// packages evaluates to the same values whether or not the schema is
// compiled beside it: the schema only enters when CheckConfig and Check
// unify those values with it. So CUE evaluates the user's own values
// (their templates included) in a context with no schema, and the Go
// checker validates them and writes the XML as it does for JSON. Whatever
// this path is not sure of takes the CUE path, where the exact schema
// decides and words every error:
//   - a package that imports nixvirt's schemas or templates (evaluating
//     it means unifying with the schema, which is what this path avoids);
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
// false; doc: the input is one document (--kind).
func readFastCUE(in Input, doc bool) (*jval, bool) {
	if len(in.Args) == 0 || allJSON(in.Args) {
		return nil, false
	}
	// No schema files: the loader's overlay has nixvirt's templates only,
	// and a package importing either is refused before it is evaluated.
	s := &Schema{ctx: cuecontext.New()}
	inst, err := s.cueInstance(in)
	if err != nil || importsNixvirt(inst, map[*build.Instance]bool{}) {
		return nil, false
	}
	v := s.ctx.BuildInstance(inst)
	if v.Err() != nil || v.Validate() != nil {
		return nil, false
	}
	return cueData(v, doc)
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

// cueData is an evaluated value as the Go checker reads JSON; inDoc says
// that v is inside an entry's definition (or is the document of --kind).
func cueData(v cue.Value, inDoc bool) (*jval, bool) {
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
		// Definitions are listed too, for #args; they are not values.
		it, err := v.Fields(cue.Optional(true), cue.Definitions(true))
		if err != nil {
			return nil, false
		}
		out := &jval{kind: jObject}
		for it.Next() {
			sel := it.Selector()
			if sel.IsDefinition() {
				if sel.String() == "#args" && it.Value().Validate(cue.Concrete(true)) != nil {
					return nil, false
				}
				continue
			}
			if sel.ConstraintType() != 0 || sel.LabelType() != cue.StringLabel {
				return nil, false
			}
			key := sel.Unquoted()
			x, ok := cueData(it.Value(), inDoc || key == "definition")
			if !ok {
				return nil, false
			}
			out.keys, out.vals = append(out.keys, key), append(out.vals, x)
		}
		return out, true
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			return nil, false
		}
		out := &jval{kind: jArray, items: []*jval{}}
		for it.Next() {
			x, ok := cueData(it.Value(), inDoc)
			if !ok {
				return nil, false
			}
			out.items = append(out.items, x)
		}
		return out, true
	case cue.StringKind:
		s, err := v.String()
		return &jval{kind: jString, s: s}, err == nil
	case cue.BoolKind:
		b, err := v.Bool()
		return &jval{kind: jBool, b: b}, err == nil
	case cue.IntKind:
		n, err := v.Int64()
		return &jval{kind: jNumber, s: strconv.FormatInt(n, 10)}, err == nil
	}
	// null, floats, bytes: the CUE path.
	return nil, false
}
