package gocheck

import (
	"encoding/xml"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"nixvirt.dev/nixvirt/internal/xmlspec"
)

// The Go checker: the schema's grammar as tables (gocheck_gen.go, which
// `go generate` writes from the schema's CUE), walked over a JSON document
// to check it and build its XML tree in one pass, without CUE evaluation.
// It answers only "valid, and here is the tree" or "not sure": anything it
// does not accept goes to the CUE schema, which decides and explains
// (package compiler). Its acceptance must agree with the exact schema's;
// the equivalence tests (compiler/gocheck_test.go) check that on every golden, the
// corpus and mutations of them.

// gDef is a closed struct of the schema: its fields in schema order.
type gDef struct {
	fields []gField
	once   sync.Once
	index  map[string]int
}

type gField struct {
	label string
	req   bool // a required field (`name!:`)
	spec  xmlspec.Spec
	typ   []gAlt // the field's value: one of these
}

type altKind uint8

const (
	aDef       altKind = iota // a definition, by name (s)
	aStruct                   // an inline struct (def)
	aList                     // a list whose items are one of elem
	aInt                      // an integer, within cons
	aNumber                   // any number, within cons
	aString                   // a string, within cons
	aBool                     // true or false
	aTrue                     // true
	aFalse                    // false
	aNull                     // null
	aLitString                // the string s
	aLitInt                   // the integer s
)

type gAlt struct {
	k    altKind
	s    string
	def  *gDef
	elem []gAlt
	cons []gCons
}

// gCons is a bound (>=, <=, >, < and a number) or a string constraint
// (=~, !~ a regular expression; != a string).
type gCons struct {
	op, arg string
}

// smallDef is the most fields a definition is searched field by field
// for: most have a handful, and a process checking one document would
// spend more building their indexes than searching them.
const smallDef = 12

func (d *gDef) field(label string) (int, bool) {
	if len(d.fields) <= smallDef {
		for i := range d.fields {
			if d.fields[i].label == label {
				return i, true
			}
		}
		return 0, false
	}
	d.once.Do(func() {
		d.index = make(map[string]int, len(d.fields))
		for i, f := range d.fields {
			d.index[f.label] = i
		}
	})
	i, ok := d.index[label]
	return i, ok
}

// patterns are the matchers of the tables' regular expressions, made on
// first use.
var patterns sync.Map // string → matcher

// A matcher is a compiled regular expression or, for an enumeration
// written as one (`^(?:kvm|qemu|xen)$`, which libvirt's grammar has many
// of), its words: compiling each such expression cost a process checking
// one document a tenth of a millisecond.
type matcher struct {
	re    *regexp.Regexp
	words []string
}

func (m matcher) MatchString(s string) bool {
	if m.re != nil {
		return m.re.MatchString(s)
	}
	for _, w := range m.words {
		if s == w {
			return true
		}
	}
	return false
}

func pattern(re string) matcher {
	if p, ok := patterns.Load(re); ok {
		return p.(matcher)
	}
	var m matcher
	if words, ok := enumeration(re); ok {
		m.words = words
	} else {
		m.re = regexp.MustCompile(re)
	}
	patterns.Store(re, m)
	return m
}

// enumeration reads `^(?:a|b|c)$` whose words have no character special
// to regular expressions (letters, digits, '_' and '-'): the expression
// matches exactly those words.
func enumeration(re string) ([]string, bool) {
	body, ok := strings.CutPrefix(re, "^(?:")
	if !ok {
		return nil, false
	}
	body, ok = strings.CutSuffix(body, ")$")
	if !ok {
		return nil, false
	}
	words := strings.Split(body, "|")
	for _, w := range words {
		if w == "" {
			return nil, false
		}
		for _, c := range w {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				return nil, false
			}
		}
	}
	return words, true
}

// scalarMatches reports whether a JSON scalar is one of the
// alternative's values.
func scalarMatches(v *Value, a *gAlt) bool {
	switch a.k {
	case aBool:
		return v.Type == BoolValue
	case aTrue:
		return v.Type == BoolValue && v.B
	case aFalse:
		return v.Type == BoolValue && !v.B
	case aNull:
		return v.Type == NullValue
	case aLitString:
		return v.Type == StringValue && v.S == a.s
	case aLitInt:
		return v.Type == NumberValue && isIntLiteral(v.S) && sameInt(v.S, a.s)
	case aInt:
		return v.Type == NumberValue && isIntLiteral(v.S) && numberWithin(v.S, a.cons)
	case aNumber:
		return v.Type == NumberValue && numberWithin(v.S, a.cons)
	case aString:
		if v.Type != StringValue {
			return false
		}
		for _, c := range a.cons {
			switch c.op {
			case "=~":
				if !pattern(c.arg).MatchString(v.S) {
					return false
				}
			case "!~":
				if pattern(c.arg).MatchString(v.S) {
					return false
				}
			case "!=":
				if v.S == c.arg {
					return false
				}
			default:
				return false
			}
		}
		return true
	}
	return false
}

// isIntLiteral: CUE reads a JSON number as an int only when it has no
// fraction and no exponent.
func isIntLiteral(s string) bool { return !strings.ContainsAny(s, ".eE") }

func sameInt(a, b string) bool {
	x, ok1 := new(big.Int).SetString(a, 10)
	y, ok2 := new(big.Int).SetString(b, 10)
	return ok1 && ok2 && x.Cmp(y) == 0
}

func numberWithin(s string, cons []gCons) bool {
	if len(cons) == 0 {
		return true
	}
	x, ok := new(big.Rat).SetString(s)
	if !ok {
		return false
	}
	for _, c := range cons {
		y, ok := new(big.Rat).SetString(c.arg)
		if !ok {
			return false
		}
		cmp := x.Cmp(y)
		switch {
		case c.op == ">=" && cmp >= 0, c.op == "<=" && cmp <= 0, c.op == ">" && cmp > 0, c.op == "<" && cmp < 0:
		default:
			return false
		}
	}
	return true
}

// structAlt is the one alternative a JSON object can be: the definition
// it is checked against. Several (or a `_`) is "not sure".
func structAlt(alts []gAlt) (*gDef, bool) {
	var found *gDef
	n := 0
	for i := range alts {
		switch alts[i].k {
		case aDef:
			found, n = goDefs[alts[i].s], n+1
		case aStruct:
			found, n = alts[i].def, n+1
		}
	}
	return found, n == 1 && found != nil
}

func listAlt(alts []gAlt) ([]gAlt, bool) {
	var found []gAlt
	n := 0
	for i := range alts {
		if alts[i].k == aList {
			found, n = alts[i].elem, n+1
		}
	}
	return found, n == 1
}

func anyScalar(v *Value, alts []gAlt) bool {
	for i := range alts {
		if scalarMatches(v, &alts[i]) {
			return true
		}
	}
	return false
}

// goBuild checks object v against def and writes it into n, as
// writer.buildNode writes a checked CUE value: fields in schema order.
// It returns false when the document is not valid, or not surely.
func goBuild(v *Value, def *gDef, n *Node) bool {
	if v.Type != ObjectValue {
		return false
	}
	vals := make([]*Value, len(def.fields))
	for i, k := range v.Keys {
		f, ok := def.field(k)
		if !ok {
			return false
		}
		vals[f] = v.Vals[i]
	}
	for i := range def.fields {
		f := &def.fields[i]
		fv := vals[i]
		if fv == nil || fv.Type == NullValue {
			// null is absent, as NixVirt writes it.
			if f.req {
				return false
			}
			continue
		}
		if f.spec.Alias != "" {
			// Two spellings of one element: the schema's error.
			if j, ok := def.field(f.spec.Alias); ok && vals[j] != nil && vals[j].Type != NullValue {
				return false
			}
		}
		if !goField(fv, f, n) {
			return false
		}
	}
	return true
}

func goField(fv *Value, f *gField, n *Node) bool {
	spec := &f.spec
	target := n
	if spec.Child != "" {
		target = n.Child(spec.Child)
	}
	name := f.label
	if spec.Name != "" {
		name = spec.Name
	}
	composite := fv.Type == ObjectValue || fv.Type == ArrayValue
	kind := spec.Kind
	if spec.OrElem && composite {
		kind = "elem"
	}
	switch kind {
	case "attr", "text", "raw":
		if composite || !anyScalar(fv, f.typ) {
			return false
		}
		s, ok := scalarText(fv, spec.Style)
		if !ok {
			return false
		}
		switch kind {
		case "attr":
			target.Attrs = append(target.Attrs, Attr{Name: name, NS: spec.NS, Value: s})
		case "text":
			target.Text, target.HasText = s, true
		case "raw":
			if fv.Type != StringValue || !wellFormed(s) {
				return false
			}
			target.Children = append(target.Children, &Node{Name: name, NS: spec.NS, Raw: s})
		}
		return true
	case "elem", "empty":
		alts := f.typ
		items := []*Value{fv}
		if fv.Type == ArrayValue {
			elem, ok := listAlt(f.typ)
			if !ok {
				return false
			}
			alts, items = elem, fv.Items
		}
		for _, item := range items {
			c := &Node{Name: name, NS: spec.NS}
			switch item.Type {
			case ObjectValue:
				d, ok := structAlt(alts)
				if !ok || !goBuild(item, d, c) {
					return false
				}
				if spec.Kind == "empty" {
					// {} or true: the element, with no content.
					c.Attrs, c.Children, c.Text, c.HasText = nil, nil, "", false
				}
			case ArrayValue:
				return false
			default:
				if !anyScalar(item, alts) {
					return false
				}
				if spec.Kind != "empty" && !(spec.Def != "" && item.Type == BoolValue) {
					s, ok := scalarText(item, spec.Style)
					if !ok {
						return false
					}
					c.Text, c.HasText = s, true
				}
			}
			target.Children = append(target.Children, c)
		}
		return true
	}
	return false
}

// scalarText writes a scalar as the compiler's scalar does.
func scalarText(v *Value, style string) (string, bool) {
	switch v.Type {
	case StringValue:
		if _, _, bad := NotXMLChar(v.S); bad {
			// The writer's error, on the CUE path.
			return "", false
		}
		return v.S, true
	case NumberValue:
		if isIntLiteral(v.S) {
			x, ok := new(big.Int).SetString(v.S, 10)
			if !ok || !(x.IsInt64() || x.IsUint64()) {
				return "", false
			}
			return x.String(), true
		}
		f, err := strconv.ParseFloat(v.S, 64)
		if err != nil {
			return "", false
		}
		return strconv.FormatFloat(f, 'f', -1, 64), true
	case BoolValue:
		yes, no := "yes", "no"
		if style == "onoff" {
			yes, no = "on", "off"
		}
		if v.B {
			return yes, true
		}
		return no, true
	}
	return "", false
}

// wellFormed is checkRaw's test, for the Go checker.
func wellFormed(s string) bool {
	d := xml.NewDecoder(strings.NewReader("<x>" + s + "</x>"))
	for {
		_, err := d.Token()
		if err != nil {
			return err.Error() == "EOF"
		}
	}
}

// Def is the table of one schema definition, for package compiler's
// exact path: it leaves out of what it checks against the exact schema
// the fields the Go checker accepts (configerrors.go there).
type Def struct{ d *gDef }

// DefOf is the table of kind k's document.
func DefOf(k Kind) Def { return Def{goDefs[k.Definition()]} }

// IsZero reports a Def of no definition.
func (d Def) IsZero() bool { return d.d == nil }

// Field is the field of the definition labelled label.
func (d Def) Field(label string) (Field, bool) {
	if d.d == nil {
		return Field{}, false
	}
	i, ok := d.d.field(label)
	if !ok {
		return Field{}, false
	}
	return Field{&d.d.fields[i]}, true
}

// Fields are the definition's fields, in schema order.
func (d Def) Fields() []Field {
	if d.d == nil {
		return nil
	}
	out := make([]Field, len(d.d.fields))
	for i := range d.d.fields {
		out[i] = Field{&d.d.fields[i]}
	}
	return out
}

// Field is one field of a Def.
type Field struct{ f *gField }

// Label is the field's label.
func (f Field) Label() string { return f.f.label }

// Required reports a required field (`name!:`).
func (f Field) Required() bool { return f.f.req }

// Alias is the label of the field this one is another spelling of, "" for
// none.
func (f Field) Alias() string { return f.f.spec.Alias }

// Accepts reports whether the Go checker accepts v as the field's value
// (not null: null is absent).
func (f Field) Accepts(v *Value) bool { return goField(v, f.f, &Node{}) }

// StructDef is the one definition an object value of the field is
// checked against; false when there is not exactly one.
func (f Field) StructDef() (Def, bool) {
	d, ok := structAlt(f.f.typ)
	return Def{d}, ok
}

// ItemDef is the one definition the object items of a list value of the
// field are checked against; false when there is not exactly one.
func (f Field) ItemDef() (Def, bool) {
	elem, ok := listAlt(f.f.typ)
	if !ok {
		return Def{}, false
	}
	d, ok := structAlt(elem)
	return Def{d}, ok
}
