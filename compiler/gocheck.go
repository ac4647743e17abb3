package compiler

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
// does not accept goes to the CUE schema, which decides and explains (see
// FastJSON). Its acceptance must agree with the exact schema's; the
// equivalence tests (gocheck_test.go) check that on every golden, the
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

func (d *gDef) field(label string) (int, bool) {
	d.once.Do(func() {
		d.index = make(map[string]int, len(d.fields))
		for i, f := range d.fields {
			d.index[f.label] = i
		}
	})
	i, ok := d.index[label]
	return i, ok
}

// patterns are the compiled regular expressions of the tables, compiled
// on first use.
var patterns sync.Map // string → *regexp.Regexp

func pattern(re string) *regexp.Regexp {
	if p, ok := patterns.Load(re); ok {
		return p.(*regexp.Regexp)
	}
	p := regexp.MustCompile(re)
	patterns.Store(re, p)
	return p
}

// scalarMatches reports whether a JSON scalar is one of the
// alternative's values.
func scalarMatches(v *jval, a *gAlt) bool {
	switch a.k {
	case aBool:
		return v.kind == jBool
	case aTrue:
		return v.kind == jBool && v.b
	case aFalse:
		return v.kind == jBool && !v.b
	case aNull:
		return v.kind == jNull
	case aLitString:
		return v.kind == jString && v.s == a.s
	case aLitInt:
		return v.kind == jNumber && isIntLiteral(v.s) && sameInt(v.s, a.s)
	case aInt:
		return v.kind == jNumber && isIntLiteral(v.s) && numberWithin(v.s, a.cons)
	case aNumber:
		return v.kind == jNumber && numberWithin(v.s, a.cons)
	case aString:
		if v.kind != jString {
			return false
		}
		for _, c := range a.cons {
			switch c.op {
			case "=~":
				if !pattern(c.arg).MatchString(v.s) {
					return false
				}
			case "!~":
				if pattern(c.arg).MatchString(v.s) {
					return false
				}
			case "!=":
				if v.s == c.arg {
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

func anyScalar(v *jval, alts []gAlt) bool {
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
func goBuild(v *jval, def *gDef, n *xmlNode) bool {
	if v.kind != jObject {
		return false
	}
	vals := make([]*jval, len(def.fields))
	for i, k := range v.keys {
		f, ok := def.field(k)
		if !ok {
			return false
		}
		vals[f] = v.vals[i]
	}
	for i := range def.fields {
		f := &def.fields[i]
		fv := vals[i]
		if fv == nil || fv.kind == jNull {
			// null is absent, as NixVirt writes it.
			if f.req {
				return false
			}
			continue
		}
		if f.spec.Alias != "" {
			// Two spellings of one element: the schema's error.
			if j, ok := def.field(f.spec.Alias); ok && vals[j] != nil && vals[j].kind != jNull {
				return false
			}
		}
		if !goField(fv, f, n) {
			return false
		}
	}
	return true
}

func goField(fv *jval, f *gField, n *xmlNode) bool {
	spec := &f.spec
	target := n
	if spec.Child != "" {
		target = n.child(spec.Child)
	}
	name := f.label
	if spec.Name != "" {
		name = spec.Name
	}
	composite := fv.kind == jObject || fv.kind == jArray
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
			target.attrs = append(target.attrs, xmlAttr{name: name, ns: spec.NS, value: s})
		case "text":
			target.text, target.hasText = s, true
		case "raw":
			if fv.kind != jString || !wellFormed(s) {
				return false
			}
			target.children = append(target.children, &xmlNode{name: name, ns: spec.NS, raw: s})
		}
		return true
	case "elem", "empty":
		alts := f.typ
		items := []*jval{fv}
		if fv.kind == jArray {
			elem, ok := listAlt(f.typ)
			if !ok {
				return false
			}
			alts, items = elem, fv.items
		}
		for _, item := range items {
			c := &xmlNode{name: name, ns: spec.NS}
			switch item.kind {
			case jObject:
				d, ok := structAlt(alts)
				if !ok || !goBuild(item, d, c) {
					return false
				}
				if spec.Kind == "empty" {
					// {} or true: the element, with no content.
					c.attrs, c.children, c.text, c.hasText = nil, nil, "", false
				}
			case jArray:
				return false
			default:
				if !anyScalar(item, alts) {
					return false
				}
				if spec.Kind != "empty" && !(spec.Def != "" && item.kind == jBool) {
					s, ok := scalarText(item, spec.Style)
					if !ok {
						return false
					}
					c.text, c.hasText = s, true
				}
			}
			target.children = append(target.children, c)
		}
		return true
	}
	return false
}

// scalarText writes a scalar as the compiler's scalar does.
func scalarText(v *jval, style string) (string, bool) {
	switch v.kind {
	case jString:
		if _, _, bad := notXMLChar(v.s); bad {
			// The writer's error, on the CUE path.
			return "", false
		}
		return v.s, true
	case jNumber:
		if isIntLiteral(v.s) {
			x, ok := new(big.Int).SetString(v.s, 10)
			if !ok || !(x.IsInt64() || x.IsUint64()) {
				return "", false
			}
			return x.String(), true
		}
		f, err := strconv.ParseFloat(v.s, 64)
		if err != nil {
			return "", false
		}
		return strconv.FormatFloat(f, 'f', -1, 64), true
	case jBool:
		yes, no := "yes", "no"
		if style == "onoff" {
			yes, no = "on", "off"
		}
		if v.b {
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
