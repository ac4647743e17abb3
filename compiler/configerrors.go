package compiler

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"nixvirt.dev/nixvirt/compiler/gocheck"
)

// The exact schema's errors for a whole-host configuration, one entry at
// a time. Unified whole, a configuration is one value: each kind of a
// connection is a disjunction (a struct keyed by name, a list, null), and
// CUE stops at the first error inside a disjunct, so of five mistakes in
// five domains only the first is reported. It is also slow: the exact
// schema's disjunctions cost each definition a few hundred milliseconds.
//
// So the exact check is split: the configuration with every kind emptied
// (its connections, owner and anything unknown), then each entry on its
// own, and each volume of a pool on its own; an entry's definition, a
// struct, apart from the entry, against its document's definition (within
// the entry it is an alternative of `#Domain | string`, where CUE stops
// at its first mistake too), in rounds (see checkDefinition). Before an
// entry is checked,
// what the Go checker accepts of its definition is left out, field by
// field and at any depth (never a required field): the exact schema then
// sees only the parts that are wrong, which are what its messages are
// about. Each entry costs the exact schema a few hundred milliseconds
// however small it is (it instantiates the whole document definition), so
// entries that are the same once pruned (a settings file whose
// definitions all lack their name) are checked once: an entry of a list
// is checked as the list's first, and its errors are moved to its own
// path and to the positions of its own values.

// configErrors checks v, a configuration, with the exact schema in parts,
// and reads the XML files its entries name (dir is the working directory;
// "" reads none).
// checked reports that it did (v has a shape the parts can be made for)
// and that no entry names an XML file; then a nil error says that v is
// valid. (An XML file's errors are placed at the definition as the exact
// unification has it.)
func (s *Schema) configErrors(v cue.Value, dir string) (err error, checked bool) {
	base := v.Path().Selectors()
	for _, sel := range base {
		if sel.LabelType() != cue.StringLabel && sel.Type() != cue.IndexLabel {
			return nil, false
		}
	}
	if v.IncompleteKind() != cue.StructKind {
		return nil, false
	}
	p := &configParts{s: s, user: v, base: base, empty: s.emptyStruct(), checked: map[string]*checkedPart{}}
	frame := p.empty
	it, ferr := v.Fields(cue.Definitions(true), cue.Optional(true))
	if ferr != nil {
		return nil, false
	}
	var entries []func()
	for it.Next() {
		sel, fv := it.Selector(), it.Value()
		if sel.String() != "connections" || fv.IncompleteKind() != cue.StructKind {
			frame = frame.FillPath(cue.MakePath(sel), fv)
			continue
		}
		frame = frame.FillPath(cue.MakePath(sel), p.empty)
		ci, err := fv.Fields(cue.Definitions(true), cue.Optional(true))
		if err != nil {
			return nil, false
		}
		for ci.Next() {
			cpath := []cue.Selector{sel, ci.Selector()}
			c := ci.Value()
			if c.IncompleteKind() != cue.StructKind {
				frame = frame.FillPath(cue.MakePath(cpath...), c)
				continue
			}
			frame = frame.FillPath(cue.MakePath(cpath...), p.empty)
			ki, err := c.Fields(cue.Definitions(true), cue.Optional(true))
			if err != nil {
				return nil, false
			}
			for ki.Next() {
				kpath := append(append([]cue.Selector{}, cpath...), ki.Selector())
				k, isKind := kindOfPlural(ki.Selector())
				kv := ki.Value()
				if !isKind || (kv.Kind() != cue.StructKind && kv.Kind() != cue.ListKind) {
					frame = frame.FillPath(cue.MakePath(kpath...), kv)
					continue
				}
				frame = frame.FillPath(cue.MakePath(kpath...), p.emptyLike(kv))
				for _, e := range p.entriesOf(kv, kpath) {
					entries = append(entries, func() { p.checkEntry(e.path, e.value, k) })
				}
			}
		}
	}
	p.checkAt(nil, frame, v)
	for _, check := range entries {
		check()
	}
	// The XML files too: Objects reads them only once the schema's
	// mistakes are fixed, and stops at the first it cannot. (Without the
	// working directory, a JSON file's relative paths cannot be read.)
	for _, x := range p.xmlEntries {
		if dir == "" {
			break
		}
		if _, err := readXMLDefinition(x.def, x.kind, x.name, dir); err != nil {
			// At the file's name, as Objects places it.
			if at := valuePos(x.def); at.IsValid() {
				err.pos = at
			}
			p.errs = errors.Append(p.errs, err)
		}
	}
	if p.unexplained > 0 {
		what := fmt.Sprintf("%d more entries", p.unexplained)
		if p.unexplained == 1 {
			what = "1 more entry"
		}
		p.errs = errors.Append(p.errs, &pathError{msg: "and " + what + " not checked: fix the mistakes above and run vet again"})
	}
	if p.errs == nil {
		return nil, !p.xmlFiles
	}
	return p.errs, true
}

// emptyStruct is the struct parts are built in: from no file of the
// user's, so that none of its positions is taken for the user's.
func (s *Schema) emptyStruct() cue.Value {
	return s.ctx.CompileString("{}", cue.Filename("<part>"))
}

func kindOfPlural(sel cue.Selector) (Kind, bool) {
	if sel.LabelType() != cue.StringLabel {
		return "", false
	}
	for _, k := range TopLevelKinds {
		if k.Plural() == sel.Unquoted() {
			return k, true
		}
	}
	return "", false
}

type configParts struct {
	s     *Schema
	user  cue.Value      // the whole configuration, for paths and positions
	base  []cue.Selector // its path (under -e)
	empty cue.Value
	errs  errors.Error
	// checked are the parts checked so far, by their canonical path and
	// content.
	checked map[string]*checkedPart
	// xmlFiles: an entry the exact schema checked names an XML file;
	// xmlEntries are the definitions that do (of entries present).
	xmlFiles   bool
	xmlEntries []xmlEntry
	// wrongParts counts the parts checked that are wrong; unexplained,
	// the entries the Go checker refused that were left unchecked once
	// there were maxWrongParts.
	wrongParts, unexplained int
}

// maxWrongParts bounds the entries explained, each wrong in its own way:
// each costs the exact schema tens of milliseconds, and a configuration
// wrong throughout (a misspelt value copied into every entry) is one
// mistake repeated, which the first entries show. Entries wrong alike
// (see checkEntry) are all reported, however many.
const maxWrongParts = 32

// checkedPart is the outcome of checking one part, whose entry was at
// path (with list indexes 0).
type checkedPart struct {
	path []string
	errs errors.Error
	user cue.Value // the entry as the user wrote it
}

// xmlEntry is an entry's definition that names an XML file, of an object
// of kind kind that the entry names name ("" for none).
type xmlEntry struct {
	def  cue.Value
	kind Kind
	name string
}

type placedEntry struct {
	path  []cue.Selector // from the configuration
	value cue.Value
}

// entriesOf lists the entries of a kind (a struct or a list) at path.
func (p *configParts) entriesOf(kv cue.Value, path []cue.Selector) []placedEntry {
	var out []placedEntry
	if kv.Kind() == cue.ListKind {
		it, err := kv.List()
		if err != nil {
			return nil
		}
		for i := 0; it.Next(); i++ {
			out = append(out, placedEntry{append(append([]cue.Selector{}, path...), cue.Index(i)), it.Value()})
		}
		return out
	}
	it, err := kv.Fields(cue.Definitions(true), cue.Optional(true))
	if err != nil {
		return nil
	}
	for it.Next() {
		out = append(out, placedEntry{append(append([]cue.Selector{}, path...), it.Selector()), it.Value()})
	}
	return out
}

// emptyLike is an empty struct or list, as kv is.
func (p *configParts) emptyLike(kv cue.Value) cue.Value {
	if kv.Kind() == cue.ListKind {
		return p.s.ctx.NewList()
	}
	return p.empty
}

// checkEntry checks one entry; a pool's volumes each on their own.
func (p *configParts) checkEntry(path []cue.Selector, e cue.Value, k Kind) {
	if e.IncompleteKind() != cue.StructKind {
		p.checkAt(path, e, e)
		return
	}
	if goAccepts(path[len(path)-1], e, k) {
		// Valid: the exact schema need not see it. A pool's volumes
		// are checked each on its own.
		if v := e.LookupPath(cue.ParsePath("volumes")); k == KindPool && v.Exists() {
			vpath := append(append([]cue.Selector{}, path...), cue.Str("volumes"))
			for _, ve := range p.entriesOf(v, vpath) {
				p.checkEntry(ve.path, ve.value, KindVolume)
			}
		}
		return
	}
	entry := p.empty
	var volumes, definition cue.Value
	it, err := e.Fields(cue.Definitions(true), cue.Optional(true))
	if err != nil {
		p.checkAt(path, e, e)
		return
	}
	// An entry under a key that is a valid name, whose names (its own,
	// its definition's) are absent or the key, is checked without them:
	// #Config gives both from the key, and the part is then the same
	// under any key, so that entries wrong in the same way are checked
	// once (see checkAt), however many there are.
	key := ""
	if last := path[len(path)-1]; last.LabelType() == cue.StringLabel && gocheck.BadName(last.Unquoted()) == "" {
		key = last.Unquoted()
	}
	anyKey := key != ""
	fields := 0
	for it.Next() {
		sel, fv := it.Selector(), it.Value()
		switch {
		case sel.String() == "name" && key != "":
			if isString(fv, key) {
				continue
			}
			anyKey = false
		case sel.String() == "definition" && fv.Kind() == cue.StringKind:
			p.xmlFiles = true
			anyKey = false
			p.noteXMLEntry(path[len(path)-1], e, fv, k)
		case sel.String() == "definition" && fv.Kind() == cue.StructKind:
			// Checked on its own (checkDefinition), as the document
			// it is: within the entry it is one alternative of
			// `#Domain | string`, and CUE reports only the first of
			// an alternative's mistakes.
			definition = fv
			continue
		case sel.String() == "definition" && fv.IncompleteKind() == cue.StructKind:
			if n := fv.LookupPath(cue.MakePath(cue.Str("name"))); n.Exists() && !isString(n, key) {
				anyKey = false
			}
			fv = p.s.pruned(fv, gocheck.DefOf(k), key)
		case sel.String() == "definition":
			anyKey = false
		case k == KindPool && sel.String() == "volumes" && (fv.Kind() == cue.StructKind || fv.Kind() == cue.ListKind):
			volumes = fv
			fv = p.emptyLike(fv)
		}
		entry = entry.FillPath(cue.MakePath(sel), fv)
		fields++
	}
	keyed := path[len(path)-1].LabelType() == cue.StringLabel
	if fields > 0 || !definition.Exists() || keyed && key == "" {
		// (An entry of nothing but its definition, under a valid key or
		// in a list, is a valid entry: every field of one is optional.
		// Its check would cost as much as the definition's.)
		p.checkPart(path, entry, e, partCheck{schema: p.s.Def("#Config"), anyKey: anyKey})
	}
	if definition.Exists() {
		// The entry names the object: by its key, or in a list a
		// volume by its name (as Objects has it).
		_, nameErr := e.LookupPath(cue.MakePath(cue.Str("name"))).String()
		named := keyed || k == KindVolume && nameErr == nil
		p.checkDefinition(path, definition, k, key, named)
	}
	if volumes.Exists() {
		vpath := append(append([]cue.Selector{}, path...), cue.Str("volumes"))
		for _, ve := range p.entriesOf(volumes, vpath) {
			p.checkEntry(ve.path, ve.value, KindVolume)
		}
	}
}

// noteXMLEntry notes an entry e, under sel, whose definition def names an
// XML file, as Objects would read it: not one to delete (present: false,
// which needs only a name), named by its key or, in a list, a volume's
// or secret's by its name.
func (p *configParts) noteXMLEntry(sel cue.Selector, e, def cue.Value, k Kind) {
	if present, err := e.LookupPath(cue.MakePath(cue.Str("present"))).Bool(); err == nil && !present && k != KindVolume {
		return
	}
	name := ""
	if sel.LabelType() == cue.StringLabel {
		name = sel.Unquoted()
	} else if k == KindVolume || k.Info().Unnamed {
		name, _ = e.LookupPath(cue.MakePath(cue.Str("name"))).String()
	}
	p.xmlEntries = append(p.xmlEntries, xmlEntry{def: def, kind: k, name: name})
}

// goAccepts reports an entry that the Go checker accepts, definition and
// all (a pool's volumes aside), under its key or in a list (sel): what it
// accepts, the exact schema does.
func goAccepts(sel cue.Selector, e cue.Value, k Kind) bool {
	j, ok := cueData(e, false)
	if !ok {
		return false
	}
	entries := &gocheck.Value{Type: gocheck.ArrayValue, Items: []*gocheck.Value{j}}
	if sel.Type() != cue.IndexLabel {
		if sel.LabelType() != cue.StringLabel {
			return false
		}
		entries = &gocheck.Value{Type: gocheck.ObjectValue, Keys: []string{sel.Unquoted()}, Vals: []*gocheck.Value{j}}
	}
	return gocheck.EntriesAccepted(entries, k)
}

// isString reports whether v is the string s.
func isString(v cue.Value, s string) bool {
	x, err := v.String()
	return err == nil && x == s
}

// checkAt checks entry (pruned) at path, as the first of its list, or
// takes the errors of an entry checked before that was the same; user is
// the entry as the user wrote it, whose values the errors are placed at.
func (p *configParts) checkAt(path []cue.Selector, entry, user cue.Value) {
	p.checkPart(path, entry, user, partCheck{schema: p.s.Def("#Config")})
}

// checkDefinition checks an entry's definition, a struct, on its own
// against its kind's document (the entry is at path, under key when that
// is a valid name): pruned as checkEntry's parts are, and, when the entry
// names the object (named), named by it when it has no name of its own,
// as #Config or Objects would name it.
//
// Within a struct that is one alternative of a disjunction (`#Domain |
// string`, every optional element's `#X | null`) CUE reports only the
// first mistake it meets. So it is checked in rounds, each without the
// mistakes the rounds before reported, for as long as the Go checker
// refuses a value no round has explained yet (at most maxRounds): most
// definitions take one round, and one with several mistakes in a struct
// as many rounds as that struct has mistakes.
func (p *configParts) checkDefinition(path []cue.Selector, def cue.Value, k Kind, key string, named bool) {
	dpath := append(append([]cue.Selector{}, path...), cue.Str("definition"))
	doc := gocheck.DefOf(k)
	how := partCheck{schema: p.place(canonicalPath(dpath), p.s.Def(k.Definition())), reported: map[string]bool{}}
	before := p.errs
	p.errs = nil
	defer func() { p.errs = errors.Append(before, inDocumentOrder(p.errs)) }()
	for round := 0; round < maxRounds; round++ {
		pr := &pruning{drop: how.reported}
		part := p.s.prune(def, doc, key, pr, "")
		if round > 0 && len(pr.leaves) == 0 {
			// Every value the Go checker refuses is explained.
			return
		}
		how.anyKey = false
		if _, hasName := doc.Field("name"); hasName && named && !how.reported["name"] {
			if name := part.LookupPath(cue.MakePath(cue.Str("name"))); !name.Exists() {
				// The name is the key's (prune leaves out one that
				// is), which the part leaves out to be the same under
				// any key: any valid name stands for it. (A name of
				// the entry's that is no name is the entry's mistake.)
				how.anyKey = key != ""
				part = part.FillPath(cue.MakePath(cue.Str("name")), "x")
			} else if key != "" {
				// Another name than the key's: the conflict #Config
				// has.
				part = part.FillPath(cue.MakePath(cue.Str("name")), key)
			}
		}
		found := p.checkPart(dpath, part, def, how)
		progress := false
		for _, f := range found {
			if !how.reported[f] {
				how.reported[f] = true
				progress = true
			}
		}
		if !progress {
			return
		}
	}
}

// inDocumentOrder is errs, one definition's from several rounds, in the
// order of their positions in the user's files, as one round's are; an
// error without one stays after the one before it.
func inDocumentOrder(errs errors.Error) errors.Error {
	all := errors.Errors(errs)
	at := make(map[errors.Error]token.Pos, len(all))
	var last token.Pos
	for _, e := range all {
		for _, p := range errors.Positions(e) {
			if p.IsValid() && isUserFile(p.Filename()) {
				last = p
				break
			}
		}
		at[e] = last
	}
	slices.SortStableFunc(all, func(a, b errors.Error) int { return at[a].Compare(at[b]) })
	var out errors.Error
	for _, e := range all {
		out = errors.Append(out, e)
	}
	return out
}

// maxRounds bounds the rounds of checkDefinition: each costs as much as
// the first.
const maxRounds = 4

// canonicalPath is path with every list index 0: an entry of a list is
// checked as the list's first.
func canonicalPath(path []cue.Selector) []cue.Selector {
	canonical := make([]cue.Selector, len(path))
	for i, sel := range path {
		if sel.Type() == cue.IndexLabel {
			sel = cue.Index(0)
		}
		canonical[i] = sel
	}
	return canonical
}

// partCheck says how checkPart checks a part.
type partCheck struct {
	// schema is #Config, or a document's definition placed at the
	// part's path.
	schema cue.Value
	// anyKey: the part is the same under any key (see checkEntry), and
	// takes the errors of such a part checked under another key.
	anyKey bool
	// reported are the paths, from the part, of the mistakes earlier
	// rounds of its entry reported (see checkDefinition): errors at or
	// beneath them are not repeated, and the part is no new wrong part.
	reported map[string]bool
}

// checkPart is checkAt as how says. It returns the paths, from the part,
// of the errors it reported that explain a mistake (see explaining).
func (p *configParts) checkPart(path []cue.Selector, entry, user cue.Value, how partCheck) []string {
	canonical := canonicalPath(path)
	keyPath := canonical
	if how.anyKey {
		// The entry's key: the last selector, or the one before
		// "definition".
		at := len(canonical) - 1
		if canonical[at].String() == "definition" {
			at--
		}
		keyPath = append(append(canonical[:at:at], cue.Str("\x00")), canonical[at+1:]...)
	}
	key := cue.MakePath(keyPath...).String() + "\x00" + fmt.Sprint(entry)
	c, ok := p.checked[key]
	later := len(how.reported) > 0
	if !ok && len(path) > 0 && p.wrongParts >= maxWrongParts && !later {
		p.unexplained++
		return nil
	}
	if !ok {
		errs := p.check(p.place(canonical, entry), p.place(canonical, user), how.schema)
		c = &checkedPart{path: pathStrings(append(append([]cue.Selector{}, p.base...), canonical...)), errs: errs, user: user}
		p.checked[key] = c
		if errs != nil && !later {
			p.wrongParts++
		}
	}
	if c.errs == nil {
		return nil
	}
	to := pathStrings(append(append([]cue.Selector{}, p.base...), path...))
	all := errors.Errors(c.errs)
	placed := map[string]bool{}
	for _, e := range all {
		if len(errors.Positions(e)) > 0 {
			placed[strings.Join(e.Path(), ".")] = true
		}
	}
	var found []string
	for _, e := range explaining(all) {
		if path := e.Path(); len(path) >= len(c.path) && slices.Equal(path[:len(c.path)], c.path) {
			found = append(found, strings.Join(path[len(c.path):], "."))
		}
	}
	for _, e := range all {
		if path := e.Path(); len(path) >= len(c.path) && reportedAt(how.reported, path[len(c.path):]) {
			continue
		}
		path := e.Path()
		if len(path) < len(c.path) || !slices.Equal(path[:len(c.path)], c.path) {
			// About the connection around the entry (its URI): the
			// configuration without entries reports it, once.
			continue
		}
		// An error keeps its positions when it is about a value the user
		// wrote in this entry. Otherwise it is placed at the user's value
		// at its path, or the nearest that encloses it: the part's own
		// structs (the entry under its key, the pruned definition) are
		// not the user's, nor are the values of an entry checked before.
		// An error with no position is a disjunction's summary when
		// another error at its path has one (see explaining), and stays
		// without.
		summary := len(errors.Positions(e)) == 0 && placed[strings.Join(path, ".")]
		own := !ok && hasUserPosition(e) && userAt(user, path[len(c.path):]).Exists()
		if _, _, mismatch := kindMismatch(e); own && mismatch {
			// A value of the wrong kind is the user's value at the
			// error's path: CUE may place the mismatch where a
			// template's default for it was chosen (an enclosing field).
			if at := valuePos(userAt(user, path[len(c.path):])); at.IsValid() && isUserFile(at.Filename()) {
				own = slices.Contains(errors.Positions(e), at)
				if !own {
					p.errs = errors.Append(p.errs, &relocated{err: e, path: append(append([]string{}, to...), path[len(c.path):]...), pos: []token.Pos{at}})
					continue
				}
			}
		}
		// Taken from an entry checked before, an error CUE placed at
		// that entry's value (not its label) is placed at this one's.
		atValue := false
		if ok && len(path) >= len(c.path) {
			if prev := userAt(c.user, path[len(c.path):]); prev.Exists() {
				atValue = slices.Contains(errors.Positions(e), valuePos(prev))
			}
		}
		p.errs = errors.Append(p.errs, relocate(e, c.path, to, user, !summary && !own, atValue))
	}
	return found
}

// reportedAt reports a path at or beneath one of reported.
func reportedAt(reported map[string]bool, path []string) bool {
	for i := len(path); i > 0; i-- {
		if reported[strings.Join(path[:i], ".")] {
			return true
		}
	}
	return false
}

func pathStrings(sels []cue.Selector) []string {
	out := make([]string, len(sels))
	for i, sel := range sels {
		out[i] = sel.String()
	}
	return out
}

// relocate moves an error of a part checked at path from (which its path
// begins with) to path to; user is the user's value at to. With place, it
// is placed at the user's value at its path, or the nearest that encloses
// it: at the field (its label), or with atValue at the value itself.
func relocate(e errors.Error, from, to []string, user cue.Value, place, atValue bool) errors.Error {
	rel := e.Path()[len(from):]
	r := &relocated{err: e, path: append(append([]string{}, to...), rel...)}
	r.pos = errors.Positions(e)
	if place {
		r.pos = nil
		for i := len(rel); i >= 0; i-- {
			if uv := userAt(user, rel[:i]); uv.Exists() && isUserValue(uv) {
				r.pos = []token.Pos{userPos(uv)}
				if i == len(rel) && atValue {
					r.pos = []token.Pos{valuePos(uv)}
				}
				break
			}
		}
	}
	return r
}

// userAt is the user's value v at the error path rel, through the
// defaults on the way: a template's structures are defaults of
// disjunctions (*{…} | _), which a path does not enter.
func userAt(v cue.Value, rel []string) cue.Value {
	for _, sel := range errorPath(rel).Selectors() {
		if d, ok := v.Default(); ok {
			v = d
		}
		v = v.LookupPath(cue.MakePath(sel))
	}
	return v
}

// valuePos is the position of the user's value v: of the value itself
// where v is one field's value, rather than of its label.
func valuePos(v cue.Value) token.Pos {
	if f, ok := v.Source().(*ast.Field); ok && f.Value != nil {
		if p := f.Value.Pos(); p.IsValid() && isUserFile(p.Filename()) {
			return p
		}
	}
	return userPos(v)
}

// relocated is an error moved to another path and positions.
type relocated struct {
	err  errors.Error
	path []string
	pos  []token.Pos
}

func (e *relocated) Position() token.Pos {
	if len(e.pos) == 0 {
		return token.NoPos
	}
	return e.pos[0]
}
func (e *relocated) InputPositions() []token.Pos  { return e.pos }
func (e *relocated) Error() string                { return errors.String(e) }
func (e *relocated) Path() []string               { return e.path }
func (e *relocated) Msg() (string, []interface{}) { return e.err.Msg() }

// place is a configuration that has only x, at path.
func (p *configParts) place(path []cue.Selector, x cue.Value) cue.Value {
	full := append(append([]cue.Selector{}, p.base...), path...)
	for i := len(full) - 1; i >= 0; i-- {
		sel := full[i]
		if sel.Type() == cue.IndexLabel {
			items := make([]cue.Value, sel.Index()+1)
			for j := range items {
				items[j] = p.empty
			}
			items[len(items)-1] = x
			x = p.s.ctx.NewList(items...)
			continue
		}
		x = p.empty.FillPath(cue.MakePath(sel), x)
	}
	// The part sits where the user's configuration does: under -e, the
	// selected value's path.
	return x.LookupPath(cue.MakePath(p.base...))
}

// check unifies one part with schema (#Config, or a document's definition
// placed at the part's path); its errors are in the user's terms, placed
// at the values of user, which has the part's paths.
func (p *configParts) check(part, user, schema cue.Value) errors.Error {
	u := part.Unify(schema)
	if err := u.Validate(cue.Concrete(true)); err != nil {
		return detached(userErrorsIn(err, user, u, schema))
	}
	return nil
}

// detached is err as it reads, holding none of the evaluation it comes
// from: CUE's errors keep the value they are about, and through it the
// whole unification of the part with #Config (the schema's disjunctions
// cloned for every alternative), which a configuration of many wrong
// entries would otherwise keep alive until all are reported.
func detached(err error) errors.Error {
	var out errors.Error
	for _, e := range errors.Errors(err) {
		out = errors.Append(out, detach(e))
	}
	return out
}

func detach(e errors.Error) errors.Error {
	switch x := e.(type) {
	case *kindError, *pathError, *frozenError:
		return e
	case *atUserValue:
		return &atUserValue{err: detach(x.err), pos: x.pos}
	}
	format, args := e.Msg()
	frozen := make([]interface{}, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case cue.Kind, token.Pos:
			// Read as they are: kindMismatch, and cue's error writer
			// (positions relative to the working directory).
			frozen[i] = a
		case fmt.Stringer:
			// CUE's formatter of a value of the evaluation.
			frozen[i] = a.String()
		default:
			frozen[i] = a
		}
	}
	// The positions are copied: CUE's slice of them is an array inside
	// its error, which would keep the error and its value.
	return &frozenError{path: e.Path(), pos: e.Position(), input: slices.Clone(e.InputPositions()), format: format, args: frozen}
}

// frozenError is one of CUE's errors as detach keeps it.
type frozenError struct {
	path   []string
	pos    token.Pos
	input  []token.Pos
	format string
	args   []interface{}
}

func (e *frozenError) Position() token.Pos          { return e.pos }
func (e *frozenError) InputPositions() []token.Pos  { return e.input }
func (e *frozenError) Error() string                { return errors.String(e) }
func (e *frozenError) Path() []string               { return e.path }
func (e *frozenError) Msg() (string, []interface{}) { return e.format, e.args }

// pruned is a document's value without what the Go checker accepts of it
// (def is its definition's table): an optional field whose value it
// accepts is left out; one it does not accept is kept, pruned in turn
// where it is a struct or a list of them. Its definitions are kept (the
// schema decides them). Two spellings of one element are kept together:
// the schema refuses them only together.
//
// With name set, a field "name" whose value is that string is left out
// too (checkEntry: #Config gives it from the entry's key).
func (s *Schema) pruned(v cue.Value, def gocheck.Def, name string) cue.Value {
	return s.prune(v, def, name, &pruning{}, "")
}

// pruning is what one pruned walk finds and leaves out. Its leaves are
// the values the Go checker refuses that hold no refused value of their
// own: a wrong scalar, an unknown field, a struct or list refused whole.
// Each is a mistake CUE's messages are to explain.
type pruning struct {
	leaves []string        // paths from the document, as errorPathKey writes them
	drop   map[string]bool // fields to leave out, by path: mistakes reported already
	// dropped counts the fields left out as in drop: a struct is not
	// refused whole for a mistake inside it that was reported.
	dropped int
}

// errorPathKey is a path from a document, as a map key: its selectors
// as an error's path has them, joined by dots.
func errorPathKey(at string, sel string) string {
	if at == "" {
		return sel
	}
	return at + "." + sel
}

// prune is pruned, noting its leaves in pr; at is v's path from the
// document.
func (s *Schema) prune(v cue.Value, def gocheck.Def, name string, pr *pruning, at string) cue.Value {
	if def.IsZero() {
		return v
	}
	it, err := v.Fields(cue.Definitions(true), cue.Optional(true))
	if err != nil {
		return v
	}
	out := s.emptyStruct()
	present := map[string]bool{}
	type field struct {
		sel cue.Selector
		v   cue.Value
	}
	var fields []field
	for it.Next() {
		fields = append(fields, field{it.Selector(), it.Value()})
		if it.Selector().LabelType() == cue.StringLabel {
			present[it.Selector().Unquoted()] = true
		}
	}
	for _, f := range fields {
		if name != "" && f.sel.String() == "name" && isString(f.v, name) {
			continue
		}
		path := errorPathKey(at, f.sel.String())
		if pr.drop[path] {
			pr.dropped++
			continue
		}
		if x, keep := s.prunedField(f.sel, f.v, def, present, pr, path); keep {
			out = out.FillPath(cue.MakePath(f.sel), x)
		}
	}
	return out
}

// prunedField is a field's value as pruned keeps it; false when the field
// is left out. path is the field's.
func (s *Schema) prunedField(sel cue.Selector, fv cue.Value, def gocheck.Def, present map[string]bool, pr *pruning, path string) (cue.Value, bool) {
	if sel.IsDefinition() || sel.LabelType() != cue.StringLabel {
		return fv, true
	}
	f, ok := def.Field(sel.Unquoted())
	if !ok {
		// Not allowed: a mistake.
		pr.leaves = append(pr.leaves, path)
		return fv, true
	}
	if f.Alias() != "" && present[f.Alias()] {
		return fv, true
	}
	for _, g := range def.Fields() {
		if g.Alias() == f.Label() && present[g.Label()] {
			return fv, true
		}
	}
	if fv.IsNull() {
		// Absent, to an optional field.
		if f.Required() {
			pr.leaves = append(pr.leaves, path)
		}
		return fv, f.Required()
	}
	j, plain := cueData(fv, true)
	if !plain {
		return fv, true
	}
	if f.Accepts(j) {
		// Accepted: what the exact schema accepts too.
		return fv, f.Required()
	}
	inside, dropped := len(pr.leaves), pr.dropped
	x := fv
	switch j.Type {
	case gocheck.ObjectValue:
		if d, ok := f.StructDef(); ok {
			x = s.prune(fv, d, "", pr, path)
		}
	case gocheck.ArrayValue:
		d, ok := f.ItemDef()
		if !ok {
			break
		}
		it, err := fv.List()
		if err != nil {
			break
		}
		var items []cue.Value
		for i := 0; it.Next(); i++ {
			x := it.Value()
			if x.IncompleteKind() == cue.StructKind {
				x = s.prune(x, d, "", pr, errorPathKey(path, strconv.Itoa(i)))
			}
			items = append(items, x)
		}
		x = s.ctx.NewList(items...)
	}
	if len(pr.leaves) == inside && pr.dropped == dropped {
		// Refused, with nothing refused inside: refused whole.
		pr.leaves = append(pr.leaves, path)
	}
	return x, true
}
