package schemagen

import (
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/ast/astutil"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"
)

// FastVariant rewrites a schema file into the fast variant (see compiler.Schema),
// which `go generate` writes to compiler/fastschema:
//
//   - `| null` goes from the generated fields: null means absent, and the loader drops null fields
//     of JSON input; a null written in CUE fails the fast variant and is
//     evaluated again with the exact one;
//   - a field `X | [...X]` of a definition X becomes `_`: the XML writer
//     checks each of its items against X;
//   - any other field whose value is a disjunction without defaults, such as
//     `int | string & =~"…"`, becomes `matchN(>=1, [int, string & =~"…"])`:
//     the same check, as a validator;
//   - a field with a `@fast(EXPR)` attribute takes EXPR as its value (the
//     hand-written #Config uses this to leave definitions to per-object
//     checks).
func FastVariant(f *ast.File) error {
	var err error
	astutil.Apply(f, func(c astutil.Cursor) bool {
		field, ok := c.Node().(*ast.Field)
		if !ok {
			return true
		}
		for _, a := range field.Attrs {
			k, body := a.Split()
			if k != "fast" {
				continue
			}
			x, perr := parser.ParseExpr("@fast", body)
			if perr != nil {
				err = fmt.Errorf("%s: %v", a.Pos(), perr)
				return false
			}
			field.Value = x
			return true
		}
		// null (absent, as in NixVirt) is left to the exact variant: the
		// loader drops null fields of JSON before the fast variant sees
		// them, and a null written in CUE fails here and is then evaluated
		// with the exact variant. Accepting null here cost every optional
		// element a validator or a disjunction (measured: 60% more
		// allocations, twice the time for 100 domains).
		value := field.Value
		if hasXML(field) {
			value, _ = withoutNull(field.Value)
			field.Value = value
		}
		if (isDefinition(value) && writesDef(field)) || isOneOrList(value) {
			// A definition, or one element or a list of it: the XML writer
			// checks each item against the definition (see
			// writer.layoutOf), so that it is evaluated once rather than in
			// its parent and again in a validator.
			if !isDefinition(value) {
				field.Value = ast.NewIdent("_")
			}
			return true
		}
		if alts := alternatives(field.Value); len(alts) > 1 {
			field.Value = &ast.CallExpr{
				Fun: ast.NewIdent("matchN"),
				Args: []ast.Expr{
					&ast.UnaryExpr{Op: token.GEQ, X: &ast.BasicLit{Kind: token.INT, Value: strconv.Itoa(1)}},
					ast.NewList(alts...),
				},
			}
		}
		return true
	}, nil)
	return err
}

// hasXML reports whether the field is one of the generated schema's.
func hasXML(field *ast.Field) bool {
	for _, a := range field.Attrs {
		if k, _ := a.Split(); k == "xml" {
			return true
		}
	}
	return false
}

// writesDef reports whether the XML writer knows the field's definition
// (`@xml(…,def=#X)`), and so can check its items itself.
func writesDef(field *ast.Field) bool {
	for _, a := range field.Attrs {
		if k, body := a.Split(); k == "xml" && strings.Contains(body, "def=") {
			return true
		}
	}
	return false
}

// withoutNull splits `X | null` (an optional field, where null means
// absent) into X and whether null was there.
func withoutNull(x ast.Expr) (ast.Expr, bool) {
	if or, ok := x.(*ast.BinaryExpr); ok && or.Op == token.OR {
		// `(X | null) | [...X]`: one element or a list, optional.
		if p, ok := or.X.(*ast.ParenExpr); ok {
			if one, nullable := withoutNull(p.X); nullable {
				return &ast.BinaryExpr{Op: token.OR, X: one, Y: or.Y}, true
			}
		}
		if id, ok := or.Y.(*ast.BasicLit); ok && id.Kind == token.NULL {
			return or.X, true
		}
		if id, ok := or.Y.(*ast.Ident); ok && id.Name == "null" {
			return or.X, true
		}
	}
	return x, false
}

// isOneOrList reports whether x is `X | [...X]` for a definition X.
func isOneOrList(x ast.Expr) bool {
	or, ok := x.(*ast.BinaryExpr)
	return ok && or.Op == token.OR && isDefinition(or.X) && isListOf(or.Y, or.X)
}

// alternatives flattens a disjunction without defaults into its
// alternatives; it returns nil for anything else (a default must unify, so
// it cannot become a validator).
func alternatives(x ast.Expr) []ast.Expr {
	switch x := x.(type) {
	case *ast.ParenExpr:
		return alternatives(x.X)
	case *ast.BinaryExpr:
		if x.Op != token.OR {
			return nil
		}
		var out []ast.Expr
		for _, side := range []ast.Expr{x.X, x.Y} {
			if sub := alternatives(side); sub != nil {
				out = append(out, sub...)
			} else if u, ok := side.(*ast.UnaryExpr); ok && u.Op == token.MUL {
				return nil
			} else {
				out = append(out, side)
			}
		}
		return out
	}
	return nil
}

func isDefinition(x ast.Expr) bool {
	id, ok := x.(*ast.Ident)
	return ok && len(id.Name) > 1 && id.Name[0] == '#'
}

// isListOf reports whether list is `[...x]`.
func isListOf(list, x ast.Expr) bool {
	l, ok := list.(*ast.ListLit)
	if !ok || len(l.Elts) != 1 {
		return false
	}
	e, ok := l.Elts[0].(*ast.Ellipsis)
	if !ok || e.Type == nil {
		return false
	}
	return sameExpr(e.Type, x)
}

// sameExpr compares two expressions: identifiers by name (what the
// generator writes), anything else by its formatted text.
func sameExpr(a, b ast.Expr) bool {
	if pa, ok := a.(*ast.ParenExpr); ok {
		a = pa.X
	}
	if pb, ok := b.(*ast.ParenExpr); ok {
		b = pb.X
	}
	ia, oka := a.(*ast.Ident)
	ib, okb := b.(*ast.Ident)
	if oka || okb {
		return oka && okb && ia.Name == ib.Name
	}
	fa, err1 := format.Node(a)
	fb, err2 := format.Node(b)
	return err1 == nil && err2 == nil && string(fa) == string(fb)
}
