package compiler

import (
	"fmt"
	"io"
	"path/filepath"
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
	all := errors.Errors(err)
	var keep []errors.Error
	for _, e := range all {
		if !isNoise(e) {
			keep = append(keep, e)
		}
	}
	if len(keep) == 0 {
		keep = all
	}
	seen := map[string]bool{}
	for _, e := range keep {
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		line := msg
		if p := e.Path(); len(p) > 0 {
			line = strings.Join(p, ".") + ": " + msg
		}
		var b strings.Builder
		b.WriteString(line)
		pos := userPositions(errors.Positions(e))
		if len(pos) > 0 {
			b.WriteString(":")
		}
		b.WriteString("\n")
		for _, p := range pos {
			fmt.Fprintf(&b, "    %s\n", relPos(p, cwd))
		}
		if !seen[b.String()] {
			seen[b.String()] = true
			io.WriteString(w, b.String())
		}
	}
}

func isNoise(e errors.Error) bool {
	format, args := e.Msg()
	msg := fmt.Sprintf(format, args...)
	return strings.Contains(msg, "errors in empty disjunction") ||
		strings.Contains(msg, "mismatched types struct and list") ||
		strings.Contains(msg, "mismatched types list and struct") ||
		(strings.Contains(msg, "conflicting values") && strings.Contains(msg, "mismatched types") && strings.Contains(msg, "[..."))
}

func userPositions(all []token.Pos) []token.Pos {
	var user, schema []token.Pos
	seen := map[string]bool{}
	for _, p := range all {
		if !p.IsValid() || seen[p.String()] {
			continue
		}
		seen[p.String()] = true
		if strings.HasPrefix(p.Filename(), schemaFilePrefix) {
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

func relPos(p token.Pos, cwd string) string {
	name := p.Filename()
	if filepath.IsAbs(name) && cwd != "" {
		if r, err := filepath.Rel(cwd, name); err == nil {
			if !strings.HasPrefix(r, "..") {
				r = "./" + r
			}
			name = r
		}
	}
	return fmt.Sprintf("%s:%d:%d", filepath.ToSlash(name), p.Line(), p.Column())
}

// userPos finds the position of a value in the user's files rather than
// in the schema it was unified with.
func userPos(v cue.Value) token.Pos {
	if p := v.Pos(); p.IsValid() && !strings.HasPrefix(p.Filename(), schemaFilePrefix) {
		return p
	}
	if op, parts := v.Expr(); op == cue.AndOp {
		for _, x := range parts {
			if p := userPos(x); p.IsValid() {
				return p
			}
		}
	}
	return v.Pos()
}
