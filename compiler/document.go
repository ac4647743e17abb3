package compiler

import (
	"errors"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/compiler/gocheck"
)

// Check unifies v with the kind's closed definition and validates it to
// concrete values. The result is what Export converts.
func (s *Schema) Check(v cue.Value, k Kind) (cue.Value, error) {
	// A document made from a template: its arguments first. CUE does not
	// enter definitions when it checks concreteness, so without this a
	// missing argument shows only as what it would have filled.
	if args := v.LookupPath(cue.MakePath(cue.Def("#args"))); args.Exists() {
		if err := args.Validate(cue.Concrete(true)); err != nil {
			return v, userErrors(err, v, v)
		}
	}
	u := v.Unify(s.Def(k.Definition()))
	if err := u.Validate(cue.Concrete(true)); err != nil {
		return u, userErrors(err, v, u)
	}
	return u, nil
}

// Export converts a checked value (from Check) to libvirt XML. The XML
// goes through libvirtxml, which writes it in libvirt's element order; any
// attribute or element that libvirtxml would not keep is an error at the
// value that wrote it, so nothing the user wrote is dropped silently.
func (s *Schema) Export(u cue.Value, k Kind) (string, error) {
	root := &xmlNode{Name: k.Info().Root, Src: u}
	w := &writer{schema: s}
	if err := w.buildNode(u, s.Def(k.Definition()), k.Definition(), root); err != nil {
		return "", err
	}
	return finishXML(root, k)
}

// finishXML writes the tree through libvirtxml (gocheck.Finish) and
// places its errors at the values that wrote what libvirtxml refuses.
func finishXML(root *xmlNode, k Kind) (string, error) {
	out, err := gocheck.Finish(root, k)
	var fe *gocheck.FinishError
	if errors.As(err, &fe) {
		src, _ := fe.Src.(cue.Value)
		return "", newPathError(src, "%s", fe.Msg)
	}
	return out, err
}
