package compiler

import (
	"strings"
	"testing"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/internal/schemagen"
)

// TestSchemaCoversLibvirtxml checks that every element and attribute
// libvirtxml models for the four documents has a field in the exact
// schema, found the way the XML writer finds it (@xml mappings).
func TestSchemaCoversLibvirtxml(t *testing.T) {
	fast := mustSchema(t)
	s, err := fast.Precise()
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{schema: s}
	for _, k := range Kinds {
		paths := schemagen.LibvirtxmlPaths(k.Definition())
		missing := 0
		for _, p := range paths {
			if reason, ok := notCovered[describe(p)]; ok {
				t.Logf("%s: %s not covered: %s", k, describe(p), reason)
				continue
			}
			if !w.reaches(s.Def(k.Definition()), k.Definition(), p) {
				missing++
				if missing <= 20 {
					t.Errorf("%s: no field for %s", k, describe(p))
				}
			}
		}
		t.Logf("%s: %d libvirtxml elements and attributes, %d without a field", k, len(paths), missing)
	}
}

// notCovered are libvirtxml paths the schema leaves out, each with why.
var notCovered = map[string]string{
	"<os><nvram><source> @host": "libvirtxml's disk source union contains the chardev union (vhost-user), " +
		"whose TCP variant has host=; libvirt writes no host= on a disk <source>, and the " +
		"grammar's <source><host> element keeps the name",
}

func describe(p schemagen.XMLPath) string {
	s := "<" + strings.Join(p.Elems, "><") + ">"
	if p.Attr != "" {
		s += " @" + p.Attr
	}
	return s
}

// reaches follows an XML path through the schema's layouts. Known clashes
// that the generator reports (an attribute libvirtxml adds where the
// grammar has an element of that name) are not expected to be reachable.
func (w *writer) reaches(sch cue.Value, key string, p schemagen.XMLPath) bool {
	for i, name := range p.Elems {
		l, err := w.schema.layoutOf(sch, key)
		if err != nil {
			return false
		}
		found := false
		for _, f := range l.fields {
			xmlName := f.name
			if f.spec.Name != "" {
				xmlName = f.spec.Name
			}
			isElem := f.spec.Kind == "elem" || f.spec.Kind == "empty" || f.spec.Kind == "raw" || f.spec.OrElem
			if f.spec.Child != "" {
				// A lifted child (os/type): its attributes sit here.
				if f.spec.Child == name && i == len(p.Elems)-1 && p.Attr != "" {
					for _, g := range l.fields {
						if g.spec.Child == name && g.spec.Kind == "attr" && g.name == p.Attr {
							return true
						}
					}
				}
				if f.spec.Child == name && i == len(p.Elems)-1 && p.Attr == "" {
					return true
				}
				continue
			}
			if !isElem || xmlName != name {
				continue
			}
			if f.spec.Kind == "raw" {
				return true // raw XML: anything below is written as is
			}
			found = true
			if f.spec.Def == "" {
				// Text-only or empty element: nothing below it.
				return i == len(p.Elems)-1 && (p.Attr == "" || f.elem.LookupPath(cue.MakePath(cue.Str(p.Attr).Optional())).Exists())
			}
			sch, key = f.elem, f.spec.Def
			break
		}
		if !found {
			return false
		}
	}
	if p.Attr == "" {
		return true
	}
	l, err := w.schema.layoutOf(sch, key)
	if err != nil {
		return false
	}
	for _, f := range l.fields {
		if (f.spec.Kind == "attr") && f.name == p.Attr && f.spec.Child == "" {
			return true
		}
	}
	return false
}
