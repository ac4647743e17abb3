package compiler

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"
	"cuelang.org/go/cue/token"

	"nixvirt.dev/nixvirt/compiler/gocheck"
)

// schemaFilePrefix marks positions inside the embedded schemas.
const schemaFilePrefix = "$nixvirt/"

// PrintError prints err as cue does — `value.path: message:` and then
// `./file:line:col` lines — once per error, as Report selects them.
//
// The message is written by cue's own error writer; the positions are
// printed here, not by errors.Print, for three reasons: a JSON file or
// stdin is named relative to the working directory ("bad.json", "-"),
// which errors.Print would leave without its "./"; a position inside the
// embedded schemas is named "$nixvirt/…", not after the overlay's path in
// the user's module; and errors.Print sorts by position, where the order
// CUE found the errors in (the document's) is kept here, so that text and
// --output json agree.
func PrintError(w io.Writer, err error, cwd string) {
	for _, r := range Report(err, cwd) {
		var b strings.Builder
		if r.Path != "" {
			b.WriteString(r.Path + ": ")
		}
		b.WriteString(r.Message)
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
	if err == nil {
		return nil
	}
	all := errors.Errors(err)
	if len(all) == 0 {
		return []Problem{{Message: err.Error()}}
	}
	var out []Problem
	seen := map[string]bool{}
	for _, e := range explaining(all) {
		p := Problem{Path: strings.Join(e.Path(), "."), Message: message(e, cwd)}
		if said, ok := patternMessage(e); ok {
			p.Message = said
		}
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

// explaining keeps the errors that say what is wrong, dropping those that
// only say that a value is not another alternative of a disjunction:
//
//   - the summary that heads a failed disjunction's errors ("N errors in
//     empty disjunction"), known as an error with no position of its own
//     at a path where another error has one;
//   - a mismatch of kinds at a path that another error at it, or any
//     error beneath it, explains: the alternative the value is meant to
//     be says what is wrong;
//   - a mismatch between struct, list and null (the shapes of a
//     one-element-or-list field, or of an optional value), when anything
//     else is left to say.
//
// These decisions read the errors' paths, positions and kinds; nothing
// here depends on how CUE words a message.
func explaining(all []errors.Error) []errors.Error {
	placed := map[string]bool{} // paths with an error that has a position
	for _, e := range all {
		if len(errors.Positions(e)) > 0 {
			placed[strings.Join(e.Path(), ".")] = true
		}
	}
	summary := func(e errors.Error) bool {
		return len(errors.Positions(e)) == 0 && placed[strings.Join(e.Path(), ".")]
	}
	// A mismatch is explained by another error at its path, or by any
	// error beneath it: the value has the shape of one alternative, and
	// what is wrong is inside.
	explains := map[string]bool{} // paths of errors that are not mismatches
	errorsAt := map[string]bool{} // paths of all errors but summaries
	for _, e := range all {
		if summary(e) {
			continue
		}
		path := strings.Join(e.Path(), ".")
		errorsAt[path] = true
		if _, _, mismatch := kindMismatch(e); !mismatch {
			explains[path] = true
		}
	}
	explainedAt := func(path string) bool {
		if explains[path] {
			return true
		}
		for p := range errorsAt {
			if strings.HasPrefix(p, path+".") {
				return true
			}
		}
		return false
	}
	var keep, out []errors.Error
	for _, e := range all {
		_, _, mismatch := kindMismatch(e)
		if !summary(e) && !(mismatch && explainedAt(strings.Join(e.Path(), "."))) {
			keep = append(keep, e)
		}
	}
	for _, e := range keep {
		if !shapeMismatch(e) {
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

// kindMismatch reports an error that a value is of another kind than the
// schema allows there: CUE's conflict of two values of different kinds,
// whose message arguments carry both kinds, or a kindError made from
// such conflicts.
func kindMismatch(e errors.Error) (have cue.Kind, want []cue.Kind, ok bool) {
	if ke, isKind := e.(*kindError); isKind {
		return ke.have, ke.want, true
	}
	if r, moved := e.(*relocated); moved {
		return kindMismatch(r.err)
	}
	if u, placed := e.(*atUserValue); placed {
		return kindMismatch(u.err)
	}
	_, args := e.Msg()
	var kinds []cue.Kind
	for _, a := range args {
		if k, isKind := a.(cue.Kind); isKind {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) != 2 || kinds[0] == kinds[1] {
		return 0, nil, false
	}
	return kinds[0], kinds[1:], true
}

// shapeKinds are the kinds of a one-element-or-list field and of an
// optional value: which of them a value is tells its shape, not what is
// wrong inside it.
const shapeKinds = cue.StructKind | cue.ListKind | cue.NullKind

// shapeMismatch reports a mismatch between struct, list and null.
func shapeMismatch(e errors.Error) bool {
	have, want, ok := kindMismatch(e)
	if !ok || have&^shapeKinds != 0 {
		return false
	}
	for _, k := range want {
		if k&^shapeKinds != 0 {
			return false
		}
	}
	return true
}

func userPositions(all []token.Pos) []token.Pos {
	var user, schema []token.Pos
	seen := map[string]bool{}
	for _, p := range all {
		if !p.IsValid() || seen[p.String()] {
			continue
		}
		seen[p.String()] = true
		if isUserFile(p.Filename()) {
			user = append(user, p)
		} else {
			schema = append(schema, p)
		}
	}
	if len(user) > 0 {
		return user
	}
	return schema
}

// isUserFile reports the files the user wrote: not the schemas, the
// templates, nor the -e expression ("<-e>"), which are not where a
// mistake is made.
func isUserFile(name string) bool {
	return !isSchemaFile(name) && !strings.HasPrefix(name, "<")
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
	} else if !filepath.IsAbs(name) && name != "-" && !strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "$") {
		name = "./" + name
	}
	return fmt.Sprintf("%s:%d:%d", filepath.ToSlash(name), p.Line(), p.Column())
}

// isUserValue reports a value written in the user's files.
func isUserValue(v cue.Value) bool {
	p := userPos(v)
	return p.IsValid() && isUserFile(p.Filename())
}

// userPos finds the position of a value in the user's files rather than
// in the schema it was unified with.
func userPos(v cue.Value) token.Pos {
	if !v.Exists() {
		// The Go checker's documents carry no CUE values.
		return token.NoPos
	}
	if p := v.Pos(); p.IsValid() && isUserFile(p.Filename()) {
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
			if p := it.Value().Pos(); p.IsValid() && isUserFile(p.Filename()) {
				return p
			}
		}
	}
	return v.Pos()
}

// userErrors restates err, from checking the user's value user (as
// unified into checked), in the user's terms:
//
//   - an error that only points into the schema (a required field that
//     is missing) gets the position of the nearest enclosing value in the
//     user's input, so that every message names the user's file;
//   - a null that cannot mean absent is named as such, in place of the
//     schema's whole definition that null does not unify with;
//   - the kind mismatches at one path, one per alternative of the
//     schema's disjunction there, become one error that names the kinds
//     wanted (and a struct's fields) rather than printing the schema's
//     definitions.
func userErrors(err error, user, checked cue.Value) error {
	return userErrorsIn(err, user, checked, cue.Value{})
}

// userErrorsIn is userErrors where checked is a part of the value the
// user wrote (see configErrors): what the schema wants at a path is
// looked up in schema, the definition user is checked against, when the
// part does not show it.
func userErrorsIn(err error, user, checked, schema cue.Value) error {
	if err == nil {
		return nil
	}
	prefix := len(user.Path().Selectors())
	all := errors.Errors(err)
	kinds := mismatchesByPath(all)
	var out errors.Error
	for _, e := range all {
		path := e.Path()
		if len(path) < prefix {
			out = errors.Append(out, e)
			continue
		}
		rel := path[prefix:]
		if nerr := nullError(user, path, prefix); nerr != nil {
			out = errors.Append(out, nerr)
			continue
		}
		if group := kinds[strings.Join(path, ".")]; slices.Contains(group, e) && (needsKindError(group) || inTemplate(path)) {
			if group[0] != e {
				continue
			}
			if nerr := nullMismatch(group); nerr != nil {
				out = errors.Append(out, nerr)
				continue
			}
			ke := newKindError(group, schemaAt(checked, errorPath(rel).Selectors()))
			if own := userPositions(ke.positions); len(own) > 1 && isUserFile(own[0].Filename()) {
				slices.SortFunc(own, token.Pos.Compare)
				// One value of the user's is of the wrong kind: the
				// last of the positions in the user's files is its own,
				// the others where a template or the schema that wants
				// another kind is named, before it (as nullMismatch
				// places a null).
				ke.positions = own[len(own)-1:]
			}
			if len(ke.fields) == 0 && schema.Exists() && slices.Contains(ke.want, cue.StructKind) {
				ke.fields = schemaFields(schemaAt(schema, errorPath(rel).Selectors()))
			}
			e = ke
		}
		if hasUserPosition(e) || len(errors.Positions(e)) == 0 {
			// Placed already, or a disjunction's summary, which has no
			// position at all (see explaining).
			out = errors.Append(out, e)
			continue
		}
		if pos := enclosingUserPos(user, rel); pos.IsValid() {
			e = &atUserValue{err: e, pos: pos}
		}
		out = errors.Append(out, e)
	}
	return out
}

// enclosingUserPos is the position of the nearest value that encloses
// path rel in the user's files, or NoPos.
func enclosingUserPos(user cue.Value, rel []string) token.Pos {
	for i := len(rel) - 1; i >= 0; i-- {
		if uv := user.LookupPath(errorPath(rel[:i])); uv.Exists() && isUserValue(uv) {
			return userPos(uv)
		}
	}
	return token.NoPos
}

// hasUserPosition reports an error with a position in the user's files.
func hasUserPosition(e errors.Error) bool {
	for _, p := range errors.Positions(e) {
		if p.IsValid() && isUserFile(p.Filename()) {
			return true
		}
	}
	return false
}

// atUserValue is a cue error placed at the user's value it is about; it
// keeps the error's message and arguments.
type atUserValue struct {
	err errors.Error
	pos token.Pos
}

func (e *atUserValue) Position() token.Pos          { return e.pos }
func (e *atUserValue) InputPositions() []token.Pos  { return nil }
func (e *atUserValue) Error() string                { return errors.String(e) }
func (e *atUserValue) Path() []string               { return e.err.Path() }
func (e *atUserValue) Msg() (string, []interface{}) { return e.err.Msg() }

// mismatchesByPath groups CUE's kind mismatches by the path they are at.
func mismatchesByPath(all []errors.Error) map[string][]errors.Error {
	out := map[string][]errors.Error{}
	for _, e := range all {
		if _, _, ok := kindMismatch(e); ok {
			key := strings.Join(e.Path(), ".")
			out[key] = append(out[key], e)
		}
	}
	return out
}

// needsKindError reports the mismatches that CUE's own messages say badly:
// several at one path (one per alternative, the alternative null among
// them) or one whose wanted value is a struct or a list, which CUE prints
// whole, with every constraint of the schema's definition.
func needsKindError(group []errors.Error) bool {
	if len(group) > 1 {
		return true
	}
	_, want, _ := kindMismatch(group[0])
	return want[0]&(cue.StructKind|cue.ListKind) != 0
}

// inTemplate reports a path through a definition: a template's
// arguments (#args), whose mismatches CUE words as a conflict with the
// kind ("conflicting values "64" and int"), where the schema's are said
// as kindError says them.
func inTemplate(path []string) bool {
	for _, p := range path {
		if strings.HasPrefix(p, "#") {
			return true
		}
	}
	return false
}

// kindError says that the user's value is of a kind the schema does not
// allow at its path, and which kinds it allows.
type kindError struct {
	path      []string
	positions []token.Pos
	have      cue.Kind
	want      []cue.Kind
	value     string   // the user's value, when it is short enough to show
	fields    []string // the fields of the struct wanted
}

// newKindError makes one kindError of the mismatches at one path; wanted
// is the checked value there, whose conjuncts hold the schema's
// alternatives.
func newKindError(group []errors.Error, wanted cue.Value) *kindError {
	ke := &kindError{path: group[0].Path()}
	for _, e := range group {
		have, want, _ := kindMismatch(e)
		ke.have = have
		if !slices.Contains(ke.want, want[0]) {
			ke.want = append(ke.want, want[0])
		}
		ke.positions = append(ke.positions, errors.Positions(e)...)
	}
	if ke.have&(cue.StructKind|cue.ListKind) == 0 {
		// The conflict's first argument is the user's value, as CUE
		// writes it.
		if _, args := group[0].Msg(); len(args) > 0 {
			if v := fmt.Sprint(args[0]); len(v) <= maxValueShown {
				ke.value = v
			}
		}
	}
	if slices.Contains(ke.want, cue.StructKind) {
		ke.fields = schemaFields(wanted)
	}
	return ke
}

func (e *kindError) Position() token.Pos {
	if len(e.positions) == 0 {
		return token.NoPos
	}
	return e.positions[0]
}
func (e *kindError) InputPositions() []token.Pos { return e.positions }
func (e *kindError) Error() string               { return errors.String(e) }
func (e *kindError) Path() []string              { return e.path }

func (e *kindError) Msg() (string, []interface{}) {
	var wants []string
	for _, k := range e.want {
		switch k {
		case cue.NullKind:
			// null means absent: it is no choice to offer.
		case cue.StructKind:
			w := "a struct"
			if len(e.fields) > 0 {
				w += " {" + strings.Join(e.fields, ", ") + "}"
			}
			if slices.Contains(e.want, cue.ListKind) {
				w += " or a list of them"
			}
			wants = append(wants, w)
		case cue.ListKind:
			if !slices.Contains(e.want, cue.StructKind) {
				wants = append(wants, "a list")
			}
		default:
			wants = append(wants, aKind(k))
		}
	}
	if len(wants) == 0 {
		wants = []string{"null"}
	}
	given := aKind(e.have) + " is given"
	if e.value != "" {
		given = e.value + " is " + aKind(e.have)
	}
	return "%s, where %s belongs", []interface{}{given, strings.Join(wants, " or ")}
}

// aKind names a kind with its article.
func aKind(k cue.Kind) string {
	switch k {
	case cue.NullKind:
		return "null"
	case cue.BytesKind:
		return "bytes"
	case cue.IntKind:
		return "an int"
	}
	return "a " + k.String()
}

// schemaAt is the value at path sels of v, a value unified with the
// schema: where v failed (a disjunction none of whose alternatives the
// user's value matched), the path is followed into the schema's
// alternative that has it, so that the result's conjuncts hold what the
// schema wants there.
func schemaAt(v cue.Value, sels []cue.Selector) cue.Value {
	for _, sel := range sels {
		// Beneath a value that failed are the user's values alone: the
		// schema's are found in its conjuncts.
		next := cue.Value{}
		if v.Err() != nil {
			next = alternativeAt(v, sel)
		}
		if !next.Exists() {
			next = v.LookupPath(cue.MakePath(sel))
		}
		if !next.Exists() {
			next = alternativeAt(v, sel)
		}
		if !next.Exists() {
			return next
		}
		v = next
	}
	return v
}

// alternativeAt finds sel in the schema's conjuncts and alternatives of
// v, a value that failed: as a field, a list element, or the pattern of a
// struct keyed by name.
func alternativeAt(v cue.Value, sel cue.Selector) cue.Value {
	op, parts := v.Expr()
	if op != cue.AndOp && op != cue.OrOp {
		// The schema's fields are optional ones, found only as such.
		tries := []cue.Selector{sel, cue.AnyIndex}
		if sel.LabelType() == cue.StringLabel {
			tries = []cue.Selector{sel, sel.Optional(), cue.AnyString}
		}
		for _, s := range tries {
			if x := v.LookupPath(cue.MakePath(s)); x.Exists() {
				return x
			}
		}
		return cue.Value{}
	}
	for _, p := range parts {
		if isUserValue(p) {
			continue
		}
		if x := alternativeAt(p, sel); x.Exists() {
			return x
		}
	}
	return cue.Value{}
}

// maxValueShown is the length of the longest value a kindError shows.
const maxValueShown = 40

// maxFieldsShown is how many of a struct's fields a kindError names.
const maxFieldsShown = 6

// schemaFields names the fields of the struct that the schema wants at
// v, a value that failed to unify: the schema's conjuncts of v, not the
// user's, and of a disjunction the struct alternative.
func schemaFields(v cue.Value) []string {
	op, parts := v.Expr()
	if op == cue.AndOp || op == cue.OrOp {
		for _, p := range parts {
			if isUserValue(p) {
				continue
			}
			if f := schemaFields(p); len(f) > 0 {
				return f
			}
		}
		return nil
	}
	if v.IncompleteKind() != cue.StructKind {
		return nil
	}
	it, err := v.Fields(cue.Optional(true))
	if err != nil {
		return nil
	}
	var names []string
	for it.Next() {
		if len(names) == maxFieldsShown {
			return append(names, "…")
		}
		names = append(names, it.Selector().Unquoted())
	}
	return names
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

// nullMismatch is nullError for a null that the user's value no longer
// shows as one (a package that unifies with the schema itself, where the
// value at the path is the failed unification): the mismatches at one
// path, when the user's value there is null. It is placed at the last of
// the errors' positions in the user's files, the null's own (the others
// are where the schema was referred to).
func nullMismatch(group []errors.Error) *pathError {
	have, _, _ := kindMismatch(group[0])
	if have != cue.NullKind {
		return nil
	}
	path := group[0].Path()
	if len(path) == 0 {
		return nil
	}
	var pos token.Pos
	for _, e := range group {
		for _, p := range errors.Positions(e) {
			if p.IsValid() && isUserFile(p.Filename()) {
				pos = p
			}
		}
	}
	msg := "null here is not absent: this field is required"
	if _, err := strconv.Atoi(path[len(path)-1]); err == nil {
		msg = "a list entry cannot be null: leave it out"
	}
	return &pathError{path: path, pos: pos, msg: msg}
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

// patternMessage says that a value does not match one of the schema's
// patterns in words ("is not an IP address", from the grammar's name of
// the pattern's type), where CUE prints the whole regular expression (1300
// characters for an IP address); a pattern the grammar gives no words is
// shown, shortened when it is long. It reads the error's arguments, a
// value and the bound it is out of, as CUE writes them (=~"…"); false for
// any other error.
func patternMessage(e errors.Error) (string, bool) {
	_, args := e.Msg()
	if len(args) != 2 {
		return "", false
	}
	bound := fmt.Sprint(args[1])
	x, err := parser.ParseExpr("", bound)
	if err != nil {
		return "", false
	}
	u, ok := x.(*ast.UnaryExpr)
	if !ok || u.Op != token.MAT {
		return "", false
	}
	lit, ok := u.X.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	re, err := literal.Unquote(lit.Value)
	if err != nil {
		return "", false
	}
	value := fmt.Sprint(args[0])
	if words, ok := gocheck.PatternWords(re); ok {
		return value + " is not " + words, true
	}
	if len(bound) <= maxPatternShown || wordList(re) {
		// A list of the words allowed says what is wanted, however long.
		return "", false
	}
	cut := []rune(bound)[:maxPatternShown]
	return value + " does not match " + string(cut) + "…", true
}

// wordList reports a pattern that is a list of words (`^(?:kvm|qemu)$`,
// a word's special characters escaped): libvirt's enumerations.
func wordList(re string) bool {
	body, ok := strings.CutPrefix(re, "^(?:")
	if !ok {
		return false
	}
	if body, ok = strings.CutSuffix(body, ")$"); !ok {
		return false
	}
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\\':
			i++
		case strings.IndexByte("()[]{}*+?.^$", c) >= 0:
			return false
		}
	}
	return true
}

// maxPatternShown is the length of the longest pattern an error shows
// whole (enumerations are patterns too: `=~"^(?:default|none|…)$"`).
const maxPatternShown = 160

// message is what e says, without its path, written by cue's own error
// writer: that follows wrapped errors and names the positions among its
// arguments relative to cwd.
func message(e errors.Error, cwd string) string {
	return errors.StringWithConfig(e, &errors.Config{OmitPath: true, Cwd: cwd, ToSlash: true})
}
