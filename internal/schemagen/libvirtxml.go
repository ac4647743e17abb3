package schemagen

import (
	"fmt"
	"math/big"
	"reflect"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// libvirtxml follows current libvirt (12.8 for v1.12008.0) while the
// RelaxNG grammars installed on Debian 12 are libvirt 9.0's. Whatever
// libvirtxml models and the grammar lacks is added to the schema, so that
// what current libvirt accepts is not refused. Its values are typed from
// the Go field (number or text): libvirtxml states no enumerations.

// xshape is the XML shape of a libvirtxml type.
type xshape struct {
	attrs    []xattr
	children []*xchild
	text     *valueType
	raw      bool
}

type xattr struct {
	name string
	vt   *valueType
}

type xchild struct {
	name, ns string
	multiple bool
	typ      reflect.Type // the element's Go type
}

var docTypes = map[string]reflect.Type{
	"#Domain":  reflect.TypeOf(libvirtxml.Domain{}),
	"#Network": reflect.TypeOf(libvirtxml.Network{}),
	"#Pool":    reflect.TypeOf(libvirtxml.StoragePool{}),
	"#Volume":  reflect.TypeOf(libvirtxml.StorageVolume{}),
	"#Secret":  reflect.TypeOf(libvirtxml.Secret{}),
}

type reflector struct {
	shapes map[reflect.Type]*xshape
}

// shapeOf reduces a libvirtxml type to the XML it writes. Union types
// hold their variants in pointer fields tagged `xml:"-"`, written by a
// MarshalXML of their own onto the same element: their fields are taken
// as the element's own.
func (r *reflector) shapeOf(t reflect.Type) *xshape {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if s, ok := r.shapes[t]; ok {
		return s
	}
	s := &xshape{}
	r.shapes[t] = s
	if t.Kind() != reflect.Struct {
		s.text = goValueType(t)
		return s
	}
	r.addFields(s, t)
	return s
}

func (r *reflector) addFields(s *xshape, t reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, hasTag := f.Tag.Lookup("xml")
		if f.Name == "XMLName" || !f.IsExported() {
			continue
		}
		ft := f.Type
		base := ft
		for base.Kind() == reflect.Pointer {
			base = base.Elem()
		}
		if !hasTag {
			// Embedded structs, and the untagged variants of unions such
			// as DomainAddress, write onto this element.
			if base.Kind() == reflect.Struct {
				r.addFields(s, base)
			}
			continue
		}
		if tag == "-" {
			if base.Kind() == reflect.Struct {
				r.addFields(s, base)
			}
			continue
		}
		parts := strings.Split(tag, ",")
		name, opts := parts[0], parts[1:]
		ns := ""
		if i := strings.LastIndexByte(name, ' '); i >= 0 {
			ns, name = name[:i], name[i+1:]
		}
		switch {
		case has(opts, "attr"):
			// Union variants repeat names (several carry a path=).
			if !s.hasAttr(name) {
				s.attrs = append(s.attrs, xattr{name: name, vt: goValueType(base)})
			}
		case has(opts, "chardata"):
			s.text = goValueType(base)
		case has(opts, "innerxml"):
			s.raw = true
		case name != "" && s.child(name, ns) != nil:
			s.child(name, ns).multiple = s.child(name, ns).multiple || ft.Kind() == reflect.Slice
		case name != "":
			s.children = append(s.children, &xchild{
				name:     name,
				ns:       ns,
				multiple: ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8,
				typ:      ft,
			})
		}
	}
}

func (s *xshape) hasAttr(name string) bool {
	for _, a := range s.attrs {
		if a.name == name {
			return true
		}
	}
	return false
}

func (s *xshape) child(name, ns string) *xchild {
	for _, c := range s.children {
		if c.name == name && c.ns == ns {
			return c
		}
	}
	return nil
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// numberText is a number written as text, decimal or hexadecimal, as
// libvirt parses it.
const numberText = `-?[0-9]+|0x[0-9a-fA-F]+`

// goValueType types a value from its Go type: numbers are numbers (also
// accepted as text), everything else is text.
func goValueType(t reflect.Type) *valueType {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		// The bounds of the Go type: libvirtxml cannot hold more.
		bits := uint(t.Bits())
		lo := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), bits-1))
		hi := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), bits-1), big.NewInt(1))
		return &valueType{ints: []intRange{{lo.String(), hi.String()}}, patterns: []string{numberText}}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		hi := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), uint(t.Bits())), big.NewInt(1))
		return &valueType{ints: []intRange{{"0", hi.String()}}, patterns: []string{numberText}}
	case reflect.Float32, reflect.Float64:
		return &valueType{float: true, anyString: true}
	}
	return &valueType{anyString: true}
}

// addition records what libvirtxml added, for the generated file's header.
type additions struct {
	attrs, elems int
	skipped      []string
}

// addNewer walks a grammar shape beside the libvirtxml type of the same
// element and adds what the grammar lacks.
func (e *emitter) addNewer(s *shape, t reflect.Type, seen map[*shape]bool, path string) {
	if seen[s] {
		return
	}
	seen[s] = true
	xs := e.refl.shapeOf(t)
	if s.empty() {
		s.wasEmpty = true
	}
	hadAttrs := len(s.attrs) > 0
	elemNames := map[string]bool{}
	for _, ch := range s.children {
		elemNames[ch.name] = true
	}
	for _, a := range xs.attrs {
		if hasAttr(s, a.name) {
			continue
		}
		if elemNames[a.name] {
			e.added.skipped = append(e.added.skipped, fmt.Sprintf("attribute %s@%s (a child element has its name)", path, a.name))
			continue
		}
		s.attrs = append(s.attrs, &attrUse{name: a.name, vt: a.vt, newer: true})
		e.added.attrs++
	}
	if s.text == nil && xs.text != nil && hadAttrs && len(s.children) == 0 {
		// Text that only current libvirt allows here; only where the
		// element is a struct already, so that its spelling stays.
		s.text = xs.text
		s.newerText = true
	}
	for _, xc := range xs.children {
		var match *childUse
		for _, ch := range s.children {
			if ch.name == xc.name && ch.ns == xc.ns {
				match = ch
			}
		}
		if match == nil {
			if hasAttr(s, xc.name) {
				e.added.skipped = append(e.added.skipped, fmt.Sprintf("element %s/%s (an attribute has its name)", path, xc.name))
				continue
			}
			cs := e.synthShape(xc.name, xc.ns, xc.typ, map[reflect.Type]*shape{})
			s.children = append(s.children, &childUse{name: xc.name, ns: xc.ns, multiple: xc.multiple, synth: cs, newer: true})
			e.added.elems++
			continue
		}
		if xc.multiple && !match.multiple {
			match.multiple = true
		}
		cs := e.childShape(match)
		e.addNewer(cs, xc.typ, seen, path+"/"+xc.name)
	}
}

func hasAttr(s *shape, name string) bool {
	for _, a := range s.attrs {
		if a.name == name {
			return true
		}
	}
	return false
}

// synthShape builds a shape for an element the grammar does not have.
func (e *emitter) synthShape(name, ns string, t reflect.Type, memo map[reflect.Type]*shape) *shape {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if s, ok := memo[t]; ok {
		return s
	}
	xs := e.refl.shapeOf(t)
	s := &shape{key: "libvirtxml|" + t.String() + "|" + name, elemName: name, ns: ns, synthFrom: t.String(), raw: xs.raw}
	memo[t] = s
	for _, a := range xs.attrs {
		s.attrs = append(s.attrs, &attrUse{name: a.name, vt: a.vt})
	}
	s.text = xs.text
	for _, xc := range xs.children {
		s.children = append(s.children, &childUse{name: xc.name, ns: xc.ns, multiple: xc.multiple, synth: e.synthShape(xc.name, xc.ns, xc.typ, memo)})
	}
	return s
}

// XMLPath is one element or attribute that libvirtxml models: the element
// names from the document root, and the attribute name ("" for the
// element itself).
type XMLPath struct {
	Elems []string
	Attr  string
}

// LibvirtxmlPaths lists what libvirtxml models for a document definition
// ("#Domain"), each element type entered once (libvirtxml's types recurse,
// as <backingStore> does).
func LibvirtxmlPaths(def string) []XMLPath {
	r := &reflector{shapes: map[reflect.Type]*xshape{}}
	var out []XMLPath
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, elems []string)
	walk = func(t reflect.Type, elems []string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if seen[t] {
			return
		}
		seen[t] = true
		xs := r.shapeOf(t)
		for _, a := range xs.attrs {
			out = append(out, XMLPath{Elems: elems, Attr: a.name})
		}
		for _, c := range xs.children {
			p := append(append([]string(nil), elems...), c.name)
			out = append(out, XMLPath{Elems: p})
			walk(c.typ, p)
		}
	}
	walk(docTypes[def], nil)
	return out
}
