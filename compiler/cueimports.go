package compiler

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/token"

	"nixvirt.dev/nixvirt/schemas"
)

// The Go checker for CUE that imports nixvirt's packages (schemas.#Domain
// & {…}, schemas.#Config & {…}, templates.#Linux & {…}). Evaluating such a
// package with the schema is what makes it slow: every document is unified
// with the whole grammar. So the package is evaluated with a light schema
// package instead, in which each definition of the grammar and of #Config
// is an open struct that only marks where it was used; nixvirt's templates
// stay as they are. The Go checker then validates the plain values as it
// validates JSON, and the exact CUE path decides whenever this one is not
// sure.
//
// The schema adds no value to a valid document (the grammar has no
// defaults; #Config's defaults and the names its keys give are the Go
// checker's too, see fastEntries), so a document the Go checker accepts
// is the one the schema would produce, provided the schema constrained
// nothing but the documents written out. That is what the light path
// checks before it trusts an evaluation:
//   - every use of a nixvirt package in the user's files is a definition
//     taken as it is, as a conjunct of a field's value or an embedding
//     (schemas.#Domain & {…}): never selected into, in a disjunction, a
//     list, a let or an argument, where its failing would change a value
//     rather than be an error;
//   - the user's files compare nothing with _|_, and refer to no regular
//     field: a reference could unify a document (which carries the schema)
//     with more, elsewhere;
//   - no such use is under a definition, a hidden field or a let, which
//     the exact path validates but nothing writes out (and which a
//     reference could copy elsewhere);
//   - every mark the light definitions leave is on a document at its
//     place in #Config (or on the whole #Config, or on the document of
//     --kind) and names that place's definition: not on a part of a
//     document, which the Go checker does not check against the
//     definition used there.
// Other packages of the user's that import none of nixvirt's are plain
// values and may be used freely.

// lightMark is the field each light definition carries: its name.
const lightMark = "#nixvirtLight"

// lightSchemaFiles are the schema package's files with each definition
// replaced by {#nixvirtLight: "#Name", ...}, under the same file names
// (in nixvirt's own module the overlay must hide each file on disk).
// names.cue and schemas.cue, scalar constraints that cost nothing, stay
// as they are.
var lightSchemaFiles = sync.OnceValue(func() map[string][]byte {
	out := map[string][]byte{}
	for _, name := range cueFiles(schemas.Files, ".") {
		src, _ := fs.ReadFile(schemas.Files, name)
		if name == "names.cue" || name == "schemas.cue" {
			out[name] = src
			continue
		}
		// Each definition begins a line (TestLightSchemaDefinesAll holds
		// the light package to the exact one's definitions): reading the
		// labels costs less than parsing the grammar.
		var b strings.Builder
		b.WriteString("package schemas\n\n")
		for _, line := range strings.Split(string(src), "\n") {
			if m := definitionLine.FindStringSubmatch(line); m != nil {
				fmt.Fprintf(&b, "%s: {%s: %q, ...}\n", m[1], lightMark, m[1])
			}
		}
		out[name] = []byte(b.String())
	}
	return out
})

var definitionLine = regexp.MustCompile(`^(#[A-Za-z0-9_]+):`)

// lightImports reports whether a package's imports suit the light path:
// nixvirt's schemas and templates, and packages that import neither.
func lightImports(inst *build.Instance) bool {
	for _, imp := range inst.Imports {
		switch imp.ImportPath {
		case SchemaImportPath, ModulePath + "/templates":
			continue
		}
		if strings.HasPrefix(imp.ImportPath, ModulePath+"/") || imp.ImportPath == ModulePath ||
			importsNixvirt(imp, map[*build.Instance]bool{}) {
			return false
		}
	}
	return true
}

// lightSyntax checks the user's files (see above): nixvirt's packages
// used only as definitions conjoined into a field or embedded, no _|_,
// no reference to a regular field.
func lightSyntax(files []*ast.File) bool {
	// Package-level labels, for references the parser left to the
	// package (a field of another file).
	regular := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.Field); ok {
				if name, _, err := ast.LabelName(fd.Label); err != nil || isRegular(name) {
					regular[name] = true
				}
			}
		}
	}
	for _, f := range files {
		if !lightFile(f, regular) {
			return false
		}
	}
	return true
}

// lightFile is lightSyntax for one file; regular are the package's
// regular fields.
func lightFile(f *ast.File, regular map[string]bool) bool {
	// nixvirt's imports, by the name a file uses and by declaration (an
	// import path may carry a version or a package qualifier, and any
	// reference to an import not known as another is taken as one).
	imports := map[string]bool{}
	specs := map[ast.Node]bool{}
	for spec := range f.ImportSpecs() {
		p, _ := stringLit(spec.Path)
		if p != ModulePath && !strings.HasPrefix(p, ModulePath+"/") && !strings.HasPrefix(p, ModulePath+"@") {
			continue
		}
		name := path.Base(p)
		name, _, _ = strings.Cut(name, ":")
		name, _, _ = strings.Cut(name, "@")
		if spec.Name != nil {
			name = spec.Name.Name
		}
		imports[name] = true
		specs[spec] = true
	}
	// The parser resolves a reference to a field to the field's value,
	// and one to a comprehension's variable to its identifier.
	fieldOf := map[ast.Node]*ast.Field{}
	forVars := map[ast.Node]bool{}
	ast.Walk(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Field:
			fieldOf[n.Value] = n
		case *ast.ForClause:
			if n.Key != nil {
				forVars[n.Key] = true
			}
			forVars[n.Value] = true
		}
		return true
	}, nil)
	// A reference the parser resolved may name a definition, a hidden
	// field, a let, a comprehension's variable or a package other than
	// nixvirt's (whose uses are checked before).
	allowedTarget := func(n ast.Node) bool {
		if fd, ok := fieldOf[n]; ok {
			name, _, err := ast.LabelName(fd.Label)
			return err == nil && !isRegular(name)
		}
		switch n.(type) {
		case *ast.LetClause, *ast.ImportSpec:
			return true
		}
		return forVars[n]
	}
	ok := true
	var stack []ast.Node
	ast.Walk(f, func(n ast.Node) bool {
		if !ok {
			return false
		}
		parent := ast.Node(nil)
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		stack = append(stack, n)
		switch n := n.(type) {
		case *ast.BottomLit:
			ok = false
		case *ast.Alias:
			// X=… names a field or a value: a reference to it is a
			// reference to a field.
			ok = false
		case *ast.Ident:
			if !isReference(n, parent) {
				return true
			}
			switch {
			case imports[n.Name] || specs[n.Node]:
				ok = lightUse(stack)
			case n.Node == nil:
				ok = !regular[n.Name]
			default:
				ok = allowedTarget(n.Node)
			}
		}
		return ok
	}, func(ast.Node) { stack = stack[:len(stack)-1] })
	return ok
}

func isRegular(label string) bool {
	return !strings.HasPrefix(label, "#") && !strings.HasPrefix(label, "_")
}

// isReference reports whether an identifier refers to something, rather
// than declaring or selecting it.
func isReference(id *ast.Ident, parent ast.Node) bool {
	switch p := parent.(type) {
	case *ast.Field:
		return p.Label != id
	case *ast.SelectorExpr:
		return p.Sel != id
	case *ast.ImportSpec, *ast.Package:
		return false
	case *ast.LetClause:
		return p.Ident != id
	case *ast.ForClause:
		return p.Key != id && p.Value != id
	}
	return true
}

// lightUse checks a use of an imported nixvirt package, the last of
// stack: pkg.#Def, then only conjunctions up to a field's value or an
// embedding, in a struct whose every enclosing field is a regular one
// (no definition, hidden field or let on the way to the file).
// A mark can then only be in a regular field, where the data walk sees
// it, or be copied by a reference, which the references allowed cannot
// reach.
func lightUse(stack []ast.Node) bool {
	i := len(stack) - 2
	if i < 0 {
		return false
	}
	sel, ok := stack[i].(*ast.SelectorExpr)
	if !ok || sel.X != stack[i+1] {
		return false
	}
	if name, _, err := ast.LabelName(sel.Sel); err != nil || !strings.HasPrefix(name, "#") {
		return false
	}
	child := ast.Node(sel)
	inField := false // the use is in a field's value or embedded
	for i--; i >= 0; i-- {
		switch p := stack[i].(type) {
		case *ast.BinaryExpr:
			if p.Op != token.AND {
				return false
			}
		case *ast.Field:
			name, _, err := ast.LabelName(p.Label)
			if p.Value != child || (err == nil && !isRegular(name)) {
				return false
			}
			inField = true
		case *ast.EmbedDecl:
			inField = true
		case *ast.StructLit, *ast.Comprehension, *ast.ListLit:
			if !inField {
				return false
			}
		case *ast.File:
			return inField
		default:
			return false
		}
		child = stack[i]
	}
	return false
}

func stringLit(l *ast.BasicLit) (string, bool) {
	if l == nil || len(l.Value) < 2 {
		return "", false
	}
	return l.Value[1 : len(l.Value)-1], true
}

// markAt is the light definition that belongs at path p: "" where none.
func markAt(p []string, k Kind) string {
	if k != "" {
		if len(p) == 0 {
			return k.Definition()
		}
		return ""
	}
	switch {
	case len(p) == 0:
		return "#Config"
	case len(p) < 5 || p[0] != "connections" || !isRegular(p[1]) || !isRegular(p[3]):
		return ""
	case len(p) == 5 && p[4] == "definition":
		for _, kind := range TopLevelKinds {
			if p[2] == kind.Plural() {
				return kind.Definition()
			}
		}
	case len(p) == 7 && p[2] == KindPool.Plural() && p[4] == KindVolume.Plural() && isRegular(p[5]) && p[6] == "definition":
		return KindVolume.Definition()
	}
	return ""
}

// lightConfigErrors explains a configuration package that imports
// nixvirt's packages, with the exact schema, entry by entry. Evaluated
// with the exact schema, such a package stops at the first mistake CUE
// meets in each kind of a connection (the kind is a disjunction, see
// configerrors.go), and costs each document the whole grammar. So it is
// evaluated with the light schema, in the exact schema's context, and
// configErrors checks the values it holds as it checks a configuration
// written in plain CUE, each entry against the exact schema. This is
// only sound where the light path's conditions hold (a document's values
// are then those of the exact evaluation, less what the schema adds) and
// every mark is on the configuration or on a document at its place (or
// within one): the exact schema checks each such place. It reports
// false when it cannot say (the exact evaluation then decides), and when
// it finds nothing wrong (the mistake is one only the exact evaluation
// sees).
func (s *Schema) lightConfigErrors(in Input) (error, bool) {
	in.Read = nil
	light := &Schema{ctx: s.ctx, files: lightSchemaFiles()}
	inst, err := light.cueInstance(in)
	if err != nil || !importsNixvirt(inst, map[*build.Instance]bool{}) || !lightImports(inst) || !lightSyntax(inst.Files) {
		return nil, false
	}
	v := s.ctx.BuildInstance(inst)
	if v.Err() != nil || v.Validate() != nil || !marksPlaced(v, nil, false) {
		return nil, false
	}
	err, _ = s.configErrors(v, in.Dir)
	return err, err != nil
}

// marksPlaced reports whether every light mark in v, at path, is on the
// whole configuration or on a document at its place in it; inDoc says
// that v is inside such a document, where marks may be anywhere (the
// document's definition checks its parts).
func marksPlaced(v cue.Value, path []string, inDoc bool) bool {
	switch v.IncompleteKind() {
	case cue.StructKind:
		it, err := v.Fields(cue.Optional(true), cue.Definitions(true))
		if err != nil {
			return false
		}
		type field struct {
			label string
			v     cue.Value
		}
		var fields []field
		for it.Next() {
			sel := it.Selector()
			if sel.IsDefinition() && sel.String() == lightMark {
				name, err := it.Value().String()
				if err != nil {
					return false
				}
				if !inDoc {
					if name != markAt(path, "") {
						return false
					}
					inDoc = name != "#Config"
				}
				continue
			}
			if !sel.IsDefinition() && sel.LabelType() == cue.StringLabel {
				fields = append(fields, field{sel.String(), it.Value()})
			}
		}
		for _, f := range fields {
			if !marksPlaced(f.v, append(path, f.label), inDoc) {
				return false
			}
		}
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			return false
		}
		for it.Next() {
			if !marksPlaced(it.Value(), append(path, "[]"), inDoc) {
				return false
			}
		}
	}
	return true
}
