package compiler

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
)

// schemaFilePrefix marks positions inside the embedded schemas.
const schemaFilePrefix = "$nixvirt/"

// PrintError prints err as cue does — `value.path: message:` and then
// `./file:line:col` lines — once per error, with three changes that make
// it read better for schema users: the positions in the user's files come
// first and schema positions are shown only when there is no other; the
// "N errors in empty disjunction" summaries and the struct-versus-list
// mismatches of "one element or a list" fields are left out when another
// error says what is wrong.
func PrintError(w io.Writer, err error, cwd string) {
	for _, r := range Report(err, cwd) {
		var b strings.Builder
		b.WriteString(r.Message)
		if r.Path != "" {
			b.Reset()
			b.WriteString(r.Path + ": " + r.Message)
		}
		if len(r.Positions) > 0 {
			b.WriteString(":")
		}
		b.WriteString("\n")
		for _, p := range r.Positions {
			fmt.Fprintf(&b, "    %s\n", p)
		}
		_, _ = io.WriteString(w, b.String()) // to the terminal: nowhere to report a failure
	}
}

// Problem is one error as PrintError shows it, for --output json.
type Problem struct {
	Path      string   `json:"path,omitempty"`
	Message   string   `json:"message"`
	Positions []string `json:"positions,omitempty"`
}

// Report is what PrintError prints, as data: each error once, with the
// positions in the user's files.
func Report(err error, cwd string) []Problem {
	all := errors.Errors(err)
	if len(all) == 0 {
		return []Problem{{Message: err.Error()}}
	}
	keep := explaining(all)
	var out []Problem
	seen := map[string]bool{}
	for _, e := range keep {
		p := Problem{Path: strings.Join(e.Path(), "."), Message: message(e)}
		shown := map[string]bool{}
		for _, pos := range userPositions(errors.Positions(e)) {
			if rel := relPos(pos, cwd); !shown[rel] {
				shown[rel] = true
				p.Positions = append(p.Positions, rel)
			}
		}
		key := fmt.Sprint(p)
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	return out
}

// explaining drops the errors that only say that a value is not another
// alternative of a disjunction: the "N errors in empty disjunction"
// summaries; a mismatch of kinds at a path that another error explains;
// and a struct, list or null alternative that the value is not (one
// element or a list), when anything else is left to say.
func explaining(all []errors.Error) []errors.Error {
	explained := map[string]bool{}
	for _, e := range all {
		if msg := message(e); !strings.Contains(msg, "errors in empty disjunction") && !strings.Contains(msg, "(mismatched types") {
			explained[strings.Join(e.Path(), ".")] = true
		}
	}
	// A mismatch is explained by an error at its path or beneath it: the
	// alternative that the value is meant to be says what is wrong.
	explainedAt := func(path string) bool {
		for p := range explained {
			if p == path || strings.HasPrefix(p, path+".") {
				return true
			}
		}
		return false
	}
	var keep []errors.Error
	for _, e := range all {
		msg := message(e)
		switch {
		case strings.Contains(msg, "errors in empty disjunction"):
		case strings.Contains(msg, "(mismatched types") && explainedAt(strings.Join(e.Path(), ".")):
		default:
			keep = append(keep, e)
		}
	}
	var out []errors.Error
	for _, e := range keep {
		if !alternativeKinds(message(e)) {
			out = append(out, e)
		}
	}
	switch {
	case len(out) > 0:
		return out
	case len(keep) > 0:
		return keep
	}
	return all
}

// alternativeKinds reports a mismatch between struct, list and null: the
// shape of a one-or-list field, or of an optional value.
func alternativeKinds(msg string) bool {
	i := strings.Index(msg, "(mismatched types ")
	if i < 0 {
		return false
	}
	kinds := strings.Fields(strings.TrimSuffix(msg[i+len("(mismatched types "):], ")"))
	if len(kinds) != 3 {
		return false
	}
	shape := map[string]bool{"struct": true, "list": true, "null": true}
	return shape[kinds[0]] && shape[kinds[2]]
}

func userPositions(all []token.Pos) []token.Pos {
	var user, schema []token.Pos
	seen := map[string]bool{}
	for _, p := range all {
		if !p.IsValid() || seen[p.String()] {
			continue
		}
		seen[p.String()] = true
		if isSchemaFile(p.Filename()) || strings.HasPrefix(p.Filename(), "<") {
			// Schemas, templates, and the -e expression: not where a
			// mistake is made.
			schema = append(schema, p)
		} else {
			user = append(user, p)
		}
	}
	if len(user) > 0 {
		return user
	}
	return schema
}

// isSchemaFile reports positions in the embedded schemas and templates,
// whether compiled on their own or placed in a user's module by the
// loader's overlay.
func isSchemaFile(name string) bool {
	slash := filepath.ToSlash(name)
	return strings.HasPrefix(name, schemaFilePrefix) ||
		strings.Contains(slash, "/cue.mod/pkg/"+SchemaImportPath+"/") ||
		strings.Contains(slash, "/cue.mod/pkg/"+ModulePath+"/templates/") ||
		ownSchemaFile(name) != ""
}

// ownSchemaFile is the schema or template file name as "$nixvirt/DIR/FILE"
// when name is in the schemas or templates directory of nixvirt's own
// module (its examples), where the loader's overlay puts them; "" if not.
func ownSchemaFile(name string) string {
	if !filepath.IsAbs(name) {
		return ""
	}
	dir := filepath.Dir(name)
	if b := filepath.Base(dir); b != "schemas" && b != "templates" {
		return ""
	}
	if root, own := moduleRoot(filepath.Dir(dir)); !own || root != filepath.Dir(dir) {
		return ""
	}
	return schemaFilePrefix + filepath.Base(dir) + "/" + filepath.Base(name)
}

func relPos(p token.Pos, cwd string) string {
	name := p.Filename()
	if own := ownSchemaFile(name); own != "" {
		// The overlay's file, not the one on disk.
		name = own
	} else if filepath.IsAbs(name) && cwd != "" {
		if r, err := filepath.Rel(cwd, name); err == nil {
			if !strings.HasPrefix(r, "..") {
				r = "./" + r
			}
			name = r
		}
	} else if !filepath.IsAbs(name) && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "$") {
		name = "./" + name
	}
	return fmt.Sprintf("%s:%d:%d", filepath.ToSlash(name), p.Line(), p.Column())
}

// userPos finds the position of a value in the user's files rather than
// in the schema it was unified with.
func userPos(v cue.Value) token.Pos {
	if !v.Exists() {
		// The Go checker's documents carry no CUE values.
		return token.NoPos
	}
	if p := v.Pos(); p.IsValid() && !isSchemaFile(p.Filename()) && !strings.HasPrefix(p.Filename(), "<") {
		return p
	}
	if op, parts := v.Expr(); op == cue.AndOp {
		for _, x := range parts {
			if p := userPos(x); p.IsValid() {
				return p
			}
		}
	}
	// Documents unified from several files have no position of their
	// own: their first field in the user's files stands for them.
	if it, err := v.Fields(cue.Optional(true)); err == nil {
		for it.Next() {
			if p := it.Value().Pos(); p.IsValid() && !isSchemaFile(p.Filename()) && !strings.HasPrefix(p.Filename(), "<") {
				return p
			}
		}
	}
	return v.Pos()
}

// withUserPositions gives errors that only point into the schema (a
// required field that is missing) the position of the nearest enclosing
// value in the user's input, so that every message names the user's file.
func withUserPositions(err error, user cue.Value) error {
	if err == nil {
		return nil
	}
	prefix := len(user.Path().Selectors())
	var out errors.Error
	for _, e := range errors.Errors(err) {
		hasUser := false
		for _, p := range errors.Positions(e) {
			hasUser = hasUser || (p.IsValid() && !isSchemaFile(p.Filename()) && !strings.HasPrefix(p.Filename(), "<"))
		}
		path := e.Path()
		if len(path) >= prefix {
			if nerr := nullError(user, path, prefix); nerr != nil {
				out = errors.Append(out, nerr)
				continue
			}
		}
		if hasUser || len(path) < prefix {
			out = errors.Append(out, e)
			continue
		}
		rel := path[prefix:]
		var pos token.Pos
		for i := len(rel) - 1; i >= 0 && !pos.IsValid(); i-- {
			uv := user.LookupPath(errorPath(rel[:i]))
			if p := userPos(uv); uv.Exists() && p.IsValid() && !isSchemaFile(p.Filename()) && !strings.HasPrefix(p.Filename(), "<") {
				pos = p
			}
		}
		if !pos.IsValid() {
			out = errors.Append(out, e)
			continue
		}
		out = errors.Append(out, &pathError{path: path, pos: pos, msg: message(e)})
	}
	return out
}

// nullError names the mistake when the user's value at path is a null
// that cannot mean absent (an entry of a list, a required field), in place
// of the schema's whole definition that null does not unify with.
func nullError(user cue.Value, path []string, prefix int) *pathError {
	rel := path[prefix:]
	if len(rel) == 0 {
		return nil
	}
	uv := user.LookupPath(errorPath(rel))
	if !uv.Exists() || !uv.IsNull() {
		return nil
	}
	msg := "null here is not absent: this field is required"
	if sel := uv.Path().Selectors(); len(sel) > 0 && sel[len(sel)-1].Type() == cue.IndexLabel {
		msg = "a list entry cannot be null: leave it out"
	}
	return &pathError{path: path, pos: userPos(uv), msg: msg}
}

// errorPath is the cue.Path of an error's path, whose list indexes are
// plain numbers.
func errorPath(path []string) cue.Path {
	sels := make([]cue.Selector, len(path))
	for i, p := range path {
		if n, err := strconv.Atoi(p); err == nil && n >= 0 {
			sels[i] = cue.Index(n)
		} else if ps := cue.ParsePath(p); ps.Err() == nil && len(ps.Selectors()) == 1 {
			sels[i] = ps.Selectors()[0]
		} else {
			sels[i] = cue.Str(p)
		}
	}
	return cue.MakePath(sels...)
}

func message(e errors.Error) string {
	format, args := e.Msg()
	if msg := fmt.Sprintf(format, args...); msg != "" {
		return msg
	}
	// A Go error promoted by errors.Errors has an empty message of its own.
	return e.Error()
}
