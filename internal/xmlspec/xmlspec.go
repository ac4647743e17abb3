// Package xmlspec is the contract between nixvirt's schema generator
// (internal/schemagen), which writes an `@xml(…)` attribute on every field
// of the generated schemas, and the compiler, which reads it to write and
// import libvirt XML. Both sides use Spec, so the attribute has one
// definition.
package xmlspec

import (
	"strconv"
	"strings"
)

// LibvirtxmlVersion is the libvirt.org/go/libvirtxml module the generator
// completes the grammar from and the compiler writes XML through (go.mod
// pins the same version).
const LibvirtxmlVersion = "v1.12008.0"

// Kinds of field: how the field's value is written.
const (
	Attr  = "attr"  // an attribute
	Text  = "text"  // the element's text
	Elem  = "elem"  // a child element (one, or a list)
	Empty = "empty" // a child element with no content: {} or true
	Raw   = "raw"   // raw XML (metadata)
)

// Spec is one field's @xml(…) attribute.
type Spec struct {
	Kind  string // Attr, Text, Elem, Empty or Raw
	Style string // "yesno" or "onoff": how a boolean is written
	// OrElem: an attribute or text whose name is also a child element's;
	// a struct or list value is the element.
	OrElem bool
	Def    string // the definition of the child element, when it has one
	Child  string // the lifted child element an attribute or text belongs to
	NS     string // the namespace of the element or attribute
	Name   string // the XML name, when it differs from the field's
	Alias  string // NixVirt's spelling: the field this one is another name of
}

// String is the attribute's body, as the generator writes it.
func (s Spec) String() string {
	args := []string{s.Kind}
	if s.Style != "" {
		args = append(args, s.Style)
	}
	if s.OrElem {
		args = append(args, Elem)
	}
	if s.Def != "" {
		args = append(args, "def="+s.Def)
	}
	if s.Child != "" {
		args = append(args, "child="+s.Child)
	}
	if s.NS != "" {
		args = append(args, "ns="+strconv.Quote(s.NS))
	}
	if s.Name != "" {
		args = append(args, "name="+s.Name)
	}
	if s.Alias != "" {
		args = append(args, "alias="+strconv.Quote(s.Alias))
	}
	return strings.Join(args, ",")
}

// Attribute is the whole attribute, `@xml(…)`.
func (s Spec) Attribute() string { return "@xml(" + s.String() + ")" }

// Attribute is a field's @xml attribute as Parse reads it: a
// *cue.Attribute, behind this interface so that this package does not
// import cue (the Go checker, which reads the specs of its generated
// tables, is built without it).
type Attribute interface {
	Err() error
	NumArgs() int
	Arg(i int) (key, value string)
}

// Parse reads the @xml attribute of a schema field
// (v.Attribute("xml")).
func Parse(a Attribute) (Spec, bool) {
	if a.Err() != nil || a.NumArgs() == 0 {
		return Spec{}, false
	}
	var s Spec
	for i := 0; i < a.NumArgs(); i++ {
		k, val := a.Arg(i)
		switch {
		case i == 0:
			s.Kind = k
		case k == "yesno" || k == "onoff":
			s.Style = k
		case k == Elem:
			s.OrElem = true
		case k == "def":
			s.Def = val
		case k == "child":
			s.Child = val
		case k == "ns":
			s.NS = val
		case k == "name":
			s.Name = val
		case k == "alias":
			s.Alias = val
		}
	}
	return s, true
}
