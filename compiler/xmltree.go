package compiler

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/compiler/gocheck"
	"nixvirt.dev/nixvirt/internal/xmlspec"
)

// The XML tree is package gocheck's, shared with the Go checker: here its
// elements remember the CUE values they came from (Src, TextSrc).
type (
	xmlNode = gocheck.Node
	xmlAttr = gocheck.Attr
)

// writer turns checked values into XML trees. It reads how each field is
// written from the schema, not from the value, so it does not depend on
// what unification kept of the schema's attributes.
type writer struct {
	schema *Schema
}

// layout is what the writer knows of one schema struct: its fields in
// schema order, each with how it is written.
type layout struct {
	fields []fieldInfo
}

type fieldInfo struct {
	sel  cue.Selector
	name string // the field's label
	spec xmlspec.Spec
	// elem is the schema of the child element: its definition, or the
	// field's own struct type.
	elem cue.Value
	// checkItems: in the fast variant the field is `_` and each item is
	// checked here against elem, once (see internal/schemagen.FastVariant).
	checkItems bool
}

// layoutOf returns the layout of a schema struct, which the writer and the
// importer follow; key caches it ("" for inline structs, which are rare and
// small).
func (s *Schema) layoutOf(sch cue.Value, key string) (*layout, error) {
	if key != "" {
		if l, ok := s.layouts[key]; ok {
			return l, nil
		}
	}
	l := &layout{}
	it, err := sch.Fields(cue.Optional(true))
	if err != nil {
		return nil, err
	}
	for it.Next() {
		sf := it.Value()
		name := it.Selector().Unquoted()
		attr := sf.Attribute("xml")
		spec, ok := xmlspec.Parse(&attr)
		if !ok {
			return nil, fmt.Errorf("internal error: schema field %s has no @xml mapping", sf.Path())
		}
		f := fieldInfo{sel: cue.Str(name), name: name, spec: spec, elem: nonNull(sf)}
		if spec.Def != "" {
			f.elem = s.Def(spec.Def)
			// The fast variant has no definition here (see internal/schemagen.FastVariant).
			f.checkItems = !s.precise && !isDef(sf)
		}
		l.fields = append(l.fields, f)
	}
	if key != "" {
		s.layouts[key] = l
	}
	return l, nil
}

// isDef reports whether a schema field's type is a definition, or a
// definition or null.
func isDef(sf cue.Value) bool {
	sf = nonNull(sf)
	_, p := sf.ReferencePath()
	return p.String() != "" && strings.HasPrefix(p.String(), "#")
}

// nonNull is an optional field's type without the null that stands for
// absent: `{path?: string} | null` is the struct.
func nonNull(sf cue.Value) cue.Value {
	op, parts := sf.Expr()
	if op != cue.OrOp {
		return sf
	}
	var keep []cue.Value
	for _, p := range parts {
		if p.IncompleteKind() != cue.NullKind {
			keep = append(keep, p)
		}
	}
	if len(keep) == 1 {
		return keep[0]
	}
	return sf
}

// buildNode writes the fields of struct value v, whose schema is sch
// (cached under key), into n.
func (w *writer) buildNode(v, sch cue.Value, key string, n *xmlNode) error {
	l, err := w.schema.layoutOf(sch, key)
	if err != nil {
		return err
	}
	for i := range l.fields {
		f := &l.fields[i]
		fv := v.LookupPath(cue.MakePath(f.sel))
		if !fv.Exists() {
			continue
		}
		// Templates set defaults (`*"kvm" | _`): the value is the default.
		fv, _ = fv.Default()
		spec := &f.spec
		if fv.IsNull() {
			// null is absent (NixVirt leaves such attributes out).
			continue
		}
		if spec.Alias != "" {
			if other := v.LookupPath(cue.MakePath(cue.Str(spec.Alias))); other.Exists() && !other.IsNull() {
				return newPathError(fv, "%q and %q are two spellings of one element: give one", f.name, spec.Alias)
			}
		}
		target := n
		if spec.Child != "" {
			target = n.Child(spec.Child)
		}
		name := f.name
		if spec.Name != "" {
			name = spec.Name
		}
		kind := spec.Kind
		if spec.OrElem && (fv.Kind() == cue.StructKind || fv.Kind() == cue.ListKind) {
			kind = "elem"
		}
		switch kind {
		case "attr":
			s, err := scalar(fv, spec.Style)
			if err != nil {
				return err
			}
			target.Attrs = append(target.Attrs, xmlAttr{Name: name, NS: spec.NS, Value: s, Src: fv})
		case "text":
			s, err := scalar(fv, spec.Style)
			if err != nil {
				return err
			}
			target.Text, target.HasText, target.TextSrc = s, true, fv
		case "raw":
			s, err := fv.String()
			if err != nil {
				return err
			}
			c := &xmlNode{Name: name, NS: spec.NS, Raw: s, Src: fv}
			if err := checkRaw(fv, s); err != nil {
				return err
			}
			target.Children = append(target.Children, c)
		case "elem", "empty":
			items := []cue.Value{fv}
			if fv.Kind() == cue.ListKind {
				items = items[:0]
				li, _ := fv.List()
				for li.Next() {
					items = append(items, li.Value())
				}
			}
			for _, item := range items {
				item, _ = item.Default()
				src := item // the user's value, for positions
				if item.IsNull() {
					return newPathError(item, "a list entry cannot be null: leave it out")
				}
				if f.checkItems {
					item = item.Unify(f.elem)
					if err := item.Validate(cue.Concrete(true)); err != nil {
						return err
					}
				}
				c := &xmlNode{Name: name, NS: spec.NS, Src: src}
				switch {
				case spec.Kind == "empty":
					// {} or true: the element, with no content.
				case spec.Def != "" && item.Kind() == cue.BoolKind:
					// true for an element that may also have attributes.
				case item.Kind() == cue.StructKind:
					if err := w.buildNode(item, f.elem, spec.Def, c); err != nil {
						return err
					}
				default:
					s, err := scalar(item, spec.Style)
					if err != nil {
						return err
					}
					c.Text, c.HasText, c.TextSrc = s, true, item
				}
				target.Children = append(target.Children, c)
			}
		default:
			return newPathError(fv, "unknown XML mapping %q (internal error)", spec.Kind)
		}
	}
	return nil
}

func scalar(v cue.Value, style string) (string, error) {
	switch v.Kind() {
	case cue.StringKind:
		s, err := v.String()
		if err != nil {
			return "", err
		}
		if i, r, bad := gocheck.NotXMLChar(s); bad {
			return "", newPathError(v, "the character %U (at byte %d) cannot be written in XML, which libvirt reads: XML 1.0 has no way to carry it", r, i)
		}
		return s, nil
	case cue.IntKind:
		i, err := v.Int64()
		if err != nil {
			u, uerr := v.Uint64()
			if uerr != nil {
				// Past what libvirt (and libvirtxml) can hold: a field
				// the schema leaves unbounded.
				n, _ := v.Int(nil)
				if n.Sign() < 0 {
					return "", newPathError(v, "%v is too small: libvirt takes integers from %d", n, int64(math.MinInt64))
				}
				return "", newPathError(v, "%v is too large: libvirt takes integers up to %d", n, uint64(math.MaxUint64))
			}
			return strconv.FormatUint(u, 10), nil
		}
		return strconv.FormatInt(i, 10), nil
	case cue.FloatKind, cue.NumberKind:
		f, err := v.Float64()
		if err != nil {
			return "", newPathError(v, "%v is out of the range of a number libvirt takes", v)
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case cue.BoolKind:
		b, _ := v.Bool()
		yes, no := "yes", "no"
		if style == "onoff" {
			yes, no = "on", "off"
		}
		if b {
			return yes, nil
		}
		return no, nil
	}
	return "", newPathError(v, "want a single value here, found %v", v.Kind())
}

// checkRaw makes sure raw XML (metadata) is well formed before it is
// spliced into the document.
func checkRaw(v cue.Value, s string) error {
	d := xml.NewDecoder(strings.NewReader("<x>" + s + "</x>"))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				return nil
			}
			return newPathError(v, "not well-formed XML: %v", err)
		}
	}
}
