package compiler

import (
	"errors"
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"

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
		return u, s.laterRounds(userErrors(err, v, u), v, k)
	}
	return u, nil
}

// laterRounds adds to errs, the errors of checking document v of kind k,
// those of the mistakes they do not report: CUE reports only the first
// mistake within an alternative of a disjunction (every optional
// element is `#X | null`), so v is checked again without the mistakes
// reported, for as long as the Go checker refuses a value no round has
// explained (at most maxRounds in all; see checkDefinition).
func (s *Schema) laterRounds(errs error, v cue.Value, k Kind) error {
	all := cueerrors.Errors(errs)
	if len(all) == 0 {
		return errs
	}
	prefix := len(v.Path().Selectors())
	reported := map[string]bool{}
	note := func(found []cueerrors.Error) bool {
		progress := false
		for _, e := range explaining(found) {
			if path := e.Path(); len(path) >= prefix && !reported[strings.Join(path[prefix:], ".")] {
				reported[strings.Join(path[prefix:], ".")] = true
				progress = true
			}
		}
		return progress
	}
	if !note(all) {
		return errs
	}
	var out cueerrors.Error
	for _, e := range all {
		out = cueerrors.Append(out, e)
	}
	def := s.Def(k.Definition())
	for n := 1; n < maxRounds; n++ {
		pr := &pruning{drop: reported}
		part := s.prune(v, gocheck.DefOf(k), "", pr, "")
		if len(pr.leaves) == 0 {
			break
		}
		part = s.placedLike(v, part)
		u := part.Unify(def)
		err := u.Validate(cue.Concrete(true))
		if err == nil {
			break
		}
		var found []cueerrors.Error
		round := cueerrors.Errors(userErrors(err, v, u))
		placed := map[string]bool{}
		for _, e := range round {
			if len(cueerrors.Positions(e)) > 0 {
				placed[strings.Join(e.Path(), ".")] = true
			}
		}
		for _, e := range round {
			if path := e.Path(); len(path) >= prefix && reportedAt(reported, path[prefix:]) {
				continue
			}
			summary := len(cueerrors.Positions(e)) == 0 && placed[strings.Join(e.Path(), ".")]
			if !summary && !hasUserPosition(e) && len(e.Path()) >= prefix {
				// The part's own structs are not the user's: the
				// user's value at the path, or the nearest enclosing,
				// is where the mistake is.
				rel := e.Path()[prefix:]
				if uv := v.LookupPath(errorPath(rel)); uv.Exists() && isUserValue(uv) {
					e = &atUserValue{err: e, pos: userPos(uv)}
				} else if pos := enclosingUserPos(v, rel); pos.IsValid() {
					e = &atUserValue{err: e, pos: pos}
				}
			}
			found = append(found, e)
			out = cueerrors.Append(out, e)
		}
		if !note(found) {
			break
		}
	}
	return inDocumentOrder(out)
}

// placedLike is x at the path of v (a value selected with -e), so that
// the errors of checking it have v's paths.
func (s *Schema) placedLike(v, x cue.Value) cue.Value {
	sels := v.Path().Selectors()
	if len(sels) == 0 {
		return x
	}
	for i := len(sels) - 1; i >= 0; i-- {
		if sels[i].Type() == cue.IndexLabel {
			items := make([]cue.Value, sels[i].Index()+1)
			for j := range items {
				items[j] = s.emptyStruct()
			}
			items[len(items)-1] = x
			x = s.ctx.NewList(items...)
			continue
		}
		x = s.emptyStruct().FillPath(cue.MakePath(sels[i]), x)
	}
	return x.LookupPath(cue.MakePath(sels...))
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
