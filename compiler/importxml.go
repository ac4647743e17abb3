package compiler

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/token"

	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// Import turns a libvirt XML document into CUE in nixvirt's vocabulary,
// unifiable with the kind's definition; name is used in error messages.
// Whatever the schema has no field for is an error naming the element's
// line: nothing is dropped. A document the schema refuses is an error
// too, at the XML file's lines: the CUE written must vet.
func (s *Schema) Import(name string, data []byte) (Kind, ast.Expr, error) {
	root, err := ParseXML(name, data)
	if err != nil {
		return "", nil, err
	}
	k, x, err := s.ImportElement(name, root)
	if err != nil {
		return k, x, err
	}
	exact, err := s.Precise()
	if err != nil {
		return "", nil, err
	}
	if _, err := exact.Check(exact.ctx.BuildExpr(x), k); err != nil {
		// Again with the XML file's lines as positions, for the error.
		_, placed, perr := exact.importAt(name, name, data, root)
		if perr != nil {
			return k, nil, perr
		}
		_, err = exact.Check(exact.ctx.BuildExpr(placed), k)
		return k, nil, err
	}
	return k, x, nil
}

// ParseXML reads a libvirt XML document; name is used in error messages,
// which give the line.
func ParseXML(name string, data []byte) (*xmldoc.Element, error) {
	root, err := xmldoc.Parse(data)
	if err != nil {
		var de *xmldoc.Error
		if errors.As(err, &de) && de.Line > 0 {
			return nil, fmt.Errorf("%s:%d: not XML: %s", name, de.Line, de.Msg)
		}
		return nil, fmt.Errorf("%s: not XML: %v", name, err)
	}
	return root, nil
}

// ImportElement is Import of a document already read (and perhaps trimmed
// of what libvirt reports; see internal/reported).
func (s *Schema) ImportElement(name string, root *xmldoc.Element) (Kind, ast.Expr, error) {
	exact, err := s.Precise()
	if err != nil {
		return "", nil, err
	}
	k, ok := KindOfRoot(root.Name)
	if !ok {
		return "", nil, fmt.Errorf("%s:%d: <%s> is not a libvirt domain, network, pool, volume or secret", name, root.Line, root.Name)
	}
	return exact.importRoot(name, root, k, nil)
}

// importAt is ImportElement for a document read from data, the file at
// path, whose values carry data's lines as positions in path: CUE's errors
// about them name the XML file's line.
func (s *Schema) importAt(name, path string, data []byte, root *xmldoc.Element) (Kind, ast.Expr, error) {
	exact, err := s.Precise()
	if err != nil {
		return "", nil, err
	}
	k, ok := KindOfRoot(root.Name)
	if !ok {
		return "", nil, fmt.Errorf("%s:%d: <%s> is not a libvirt domain, network, pool, volume or secret", name, root.Line, root.Name)
	}
	lines := token.NewFile(path, -1, len(data))
	lines.SetLinesForContent(data)
	return exact.importRoot(name, root, k, lines)
}

func (s *Schema) importRoot(name string, root *xmldoc.Element, k Kind, lines *token.File) (Kind, ast.Expr, error) {
	im := &importer{schema: s, file: name, accepts: map[string]bool{}, lines: lines}
	x, err := im.element(root, s.Def(k.Definition()), k.Definition(), root.Name)
	if err != nil {
		return k, nil, err
	}
	im.at(root.Line, x)
	return k, x, nil
}

type importer struct {
	schema  *Schema
	file    string
	accepts map[string]bool
	// lines, when set, gives the CUE it makes the XML file's lines as
	// positions, so that an error in the value names the XML line.
	lines *token.File
}

// at gives nodes the position of the start of an XML line (when the
// importer keeps positions).
func (im *importer) at(line int, nodes ...ast.Node) {
	if im.lines == nil || line < 1 || line > im.lines.LineCount() {
		return
	}
	pos := im.lines.Pos(im.lines.Lines()[line-1], token.NoRelPos)
	for _, n := range nodes {
		// Nodes made for this line that have none yet (the field a text
		// is wrapped in) take it too; inner elements keep their own.
		ast.Walk(n, func(x ast.Node) bool {
			if !x.Pos().IsValid() {
				ast.SetPos(x, pos)
			}
			return true
		}, nil)
	}
}

func (im *importer) errorf(e *xmldoc.Element, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", im.file, e.Line, fmt.Sprintf(format, args...))
}

// element converts an element whose schema is sch (cached under key).
func (im *importer) element(e *xmldoc.Element, sch cue.Value, key, path string) (ast.Expr, error) {
	l, err := im.schema.layoutOf(sch, key)
	if err != nil {
		return nil, err
	}
	st := &ast.StructLit{}
	fields := map[string]*ast.Field{}
	add := func(label string, v ast.Expr, line int) {
		f := &ast.Field{Label: fieldLabel(label), Value: v}
		im.at(line, f.Label, v)
		fields[label] = f
		st.Elts = append(st.Elts, f)
	}
	for _, a := range e.Attrs {
		f := l.find(func(f *fieldInfo) bool {
			return f.spec.Kind == "attr" && f.spec.Child == "" && f.xmlName() == a.Name.Local
		})
		if f == nil {
			return nil, im.errorf(e, "attribute %q of <%s> is not in nixvirt's schema (%s)", a.Name.Local, e.Name, path)
		}
		v, err := im.typed(e, fmt.Sprintf("attribute %q of <%s>", a.Name.Local, e.Name), key, f, a.Value, path)
		if err != nil {
			return nil, err
		}
		add(f.name, v, e.Line)
	}
	if t := e.Text; strings.TrimSpace(t) != "" && len(e.Children) == 0 {
		// Text is kept as it is, spaces and all: libvirt keeps it so.
		f := l.find(func(f *fieldInfo) bool { return f.spec.Kind == "text" && f.spec.Child == "" })
		if f == nil {
			return nil, im.errorf(e, "<%s> has text %q, which nixvirt's schema has no field for (%s)", e.Name, t, path)
		}
		v, err := im.typed(e, fmt.Sprintf("<%s>", e.Name), key, f, t, path)
		if err != nil {
			return nil, err
		}
		add(f.name, v, e.Line)
	}
	// Children, repeated ones gathered into a list where they first occur.
	lists := map[string]*ast.ListLit{}
	for _, c := range e.Children {
		// A lifted child (os/type): its text and attributes are fields here.
		if lf := l.find(func(f *fieldInfo) bool { return f.spec.Child == c.Name }); lf != nil {
			for _, a := range c.Attrs {
				f := l.find(func(f *fieldInfo) bool {
					return f.spec.Kind == "attr" && f.spec.Child == c.Name && f.xmlName() == a.Name.Local
				})
				if f == nil {
					return nil, im.errorf(c, "attribute %q of <%s> is not in nixvirt's schema (%s/%s)", a.Name.Local, c.Name, path, c.Name)
				}
				v, err := im.typed(c, fmt.Sprintf("attribute %q of <%s>", a.Name.Local, c.Name), key, f, a.Value, path+"/"+c.Name)
				if err != nil {
					return nil, err
				}
				add(f.name, v, c.Line)
			}
			if t := strings.TrimSpace(c.Text); t != "" {
				f := l.find(func(f *fieldInfo) bool { return f.spec.Kind == "text" && f.spec.Child == c.Name })
				if f == nil {
					return nil, im.errorf(c, "<%s> has text nixvirt's schema has no field for", c.Name)
				}
				v, err := im.typed(c, fmt.Sprintf("<%s>", c.Name), key, f, t, path+"/"+c.Name)
				if err != nil {
					return nil, err
				}
				add(f.name, v, c.Line)
			}
			continue
		}
		// Where an attribute and a child element share a name, the shared
		// field takes the element unless the attribute is there too.
		var f *fieldInfo
		if !hasAttr(e, c.Name) {
			f = l.find(func(f *fieldInfo) bool { return f.spec.OrElem && f.xmlName() == c.Name })
		}
		if f == nil {
			f = l.find(func(f *fieldInfo) bool {
				return (f.spec.Kind == "elem" || f.spec.Kind == "empty" || f.spec.Kind == "raw") && f.xmlName() == c.Name && nsMatch(f.spec.NS, c.Space)
			})
		}
		if f == nil {
			return nil, im.errorf(c, "element <%s> in <%s> is not in nixvirt's schema (%s)", c.Name, e.Name, path)
		}
		v, err := im.child(c, f, path+"/"+c.Name)
		if err != nil {
			return nil, err
		}
		im.at(c.Line, v)
		if lst, ok := lists[f.name]; ok {
			lst.Elts = append(lst.Elts, v)
			continue
		}
		if prev, ok := fields[f.name]; ok {
			lst := &ast.ListLit{Elts: []ast.Expr{prev.Value, v}}
			prev.Value = lst
			lists[f.name] = lst
			continue
		}
		add(f.name, v, c.Line)
	}
	return st, nil
}

func nsMatch(want, have string) bool { return want == have }

func hasAttr(e *xmldoc.Element, name string) bool {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return true
		}
	}
	return false
}

// child converts a child element by its field's kind.
func (im *importer) child(c *xmldoc.Element, f *fieldInfo, path string) (ast.Expr, error) {
	switch {
	case f.spec.Kind == "raw":
		return ast.NewString(c.Inner()), nil
	case f.spec.Kind == "empty":
		if len(c.Attrs) > 0 || len(c.Children) > 0 || strings.TrimSpace(c.Text) != "" {
			return nil, im.errorf(c, "<%s> is empty in libvirt's grammar, but has content (%s)", c.Name, path)
		}
		return &ast.StructLit{}, nil
	case f.spec.Def != "":
		return im.element(c, f.elem, f.spec.Def, path)
	}
	// A text-only element: a plain value, or NixVirt's wrapper struct
	// (kernel: {path: …}).
	if wf, ok := im.wrapperField(f); ok {
		if len(c.Attrs) > 0 || len(c.Children) > 0 {
			return nil, im.errorf(c, "<%s> has content nixvirt's schema has no field for (%s)", c.Name, path)
		}
		// Typed as the field takes it: <iothreads>2</iothreads> is
		// iothreads: count: 2, the schema taking no text there.
		v, err := im.typed(c, fmt.Sprintf("<%s>", c.Name), path, wf, c.Text, path)
		if err != nil {
			return nil, err
		}
		return &ast.StructLit{Elts: []ast.Decl{&ast.Field{Label: fieldLabel(wf.name), Value: v}}}, nil
	}
	if len(c.Attrs) > 0 || len(c.Children) > 0 {
		return nil, im.errorf(c, "<%s> takes only text in nixvirt's schema (%s)", c.Name, path)
	}
	return im.typed(c, fmt.Sprintf("<%s>", c.Name), f.name, f, c.Text, path)
}

// wrapperField reports whether a text-only element is written as a struct
// with one text field, and that field.
func (im *importer) wrapperField(f *fieldInfo) (*fieldInfo, bool) {
	el := f.elem
	if el.IncompleteKind() != cue.StructKind {
		return nil, false
	}
	l, err := im.schema.layoutOf(el, "")
	if err != nil || len(l.fields) != 1 || l.fields[0].spec.Kind != "text" {
		return nil, false
	}
	return &l.fields[0], true
}

// value types a lexical value as the field takes it: a boolean for yes/no
// and on/off, an integer where the field takes no free text, else text.
func (im *importer) value(key string, f *fieldInfo, s string) ast.Expr {
	if f.spec.Style != "" {
		switch {
		case (f.spec.Style == "yesno" && s == "yes") || (f.spec.Style == "onoff" && s == "on"):
			if im.accept(key, f, true) {
				return ast.NewBool(true)
			}
		case (f.spec.Style == "yesno" && s == "no") || (f.spec.Style == "onoff" && s == "off"):
			if im.accept(key, f, false) {
				return ast.NewBool(false)
			}
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(n, 10) == s && !im.accept(key, f, "nixvirt: free text?") && im.accept(key, f, n) {
		return &ast.BasicLit{Kind: token.INT, Value: s}
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil && !im.accept(key, f, "nixvirt: free text?") && !im.accept(key, f, int64(0)) && im.accept(key, f, x) {
		return &ast.BasicLit{Kind: token.FLOAT, Value: strconv.FormatFloat(x, 'g', -1, 64)}
	}
	return ast.NewString(s)
}

// typed is value, refusing text where the field takes no text at all (a
// number, a boolean): what it would write could not vet, and the text is
// best named as the XML has it. A field that takes some text (a word of
// a set, a pattern, or any arm of a struct whose arms differ, such as a
// <controller>'s model by its type) is the schema's to judge, as Import
// and vet do, at the XML file's line.
func (im *importer) typed(e *xmldoc.Element, what, key string, f *fieldInfo, s string, path string) (ast.Expr, error) {
	v := im.value(key, f, s)
	if lit, ok := v.(*ast.BasicLit); !ok || lit.Kind != token.STRING {
		return v, nil
	}
	k := f.elem.IncompleteKind()
	if k&^(cue.NumberKind|cue.BoolKind|cue.NullKind) != 0 || k&(cue.NumberKind|cue.BoolKind) == 0 {
		return v, nil
	}
	var want string
	switch {
	case k&cue.BoolKind != 0:
		want = "it takes true or false"
	case k&cue.FloatKind == 0:
		want = "it takes a whole number"
	default:
		want = "it takes a number"
	}
	return nil, im.errorf(e, "%s is %q: %s (%s)", what, s, want, path)
}

func (im *importer) accept(key string, f *fieldInfo, v any) bool {
	k := fmt.Sprintf("%s.%s=%T:%v", key, f.name, v, v)
	if ok, seen := im.accepts[k]; seen {
		return ok
	}
	ok := f.elem.Unify(im.schema.ctx.Encode(v)).Validate(cue.Concrete(true)) == nil
	im.accepts[k] = ok
	return ok
}

func (f *fieldInfo) xmlName() string {
	if f.spec.Name != "" {
		return f.spec.Name
	}
	return f.name
}

func (l *layout) find(match func(*fieldInfo) bool) *fieldInfo {
	for i := range l.fields {
		if match(&l.fields[i]) {
			return &l.fields[i]
		}
	}
	return nil
}

func fieldLabel(name string) ast.Label {
	if ast.IsValidIdent(name) && !strings.HasPrefix(name, "#") && !strings.HasPrefix(name, "_") {
		return ast.NewIdent(name)
	}
	return ast.NewString(name)
}

// FormatCUE formats an imported value as a CUE file body.
func FormatCUE(x ast.Expr, comment string) ([]byte, error) {
	f := &ast.File{}
	if st, ok := x.(*ast.StructLit); ok {
		f.Decls = st.Elts
	} else {
		f.Decls = []ast.Decl{&ast.EmbedDecl{Expr: x}}
	}
	if comment != "" && len(f.Decls) > 0 {
		ast.AddComment(f.Decls[0], &ast.CommentGroup{Doc: true, List: []*ast.Comment{{Text: "// " + comment}}})
	}
	return format.Node(f, format.Simplify())
}

// ReadXMLFile reads a libvirt XML file that a configuration names: a
// regular file of bounded size (see xmldoc.ReadFile). shown is the file
// as the user named it, for the message.
func ReadXMLFile(path, shown string) ([]byte, error) {
	data, err := xmldoc.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shown, unwrapPath(err))
	}
	return data, nil
}

// unwrapPath drops the path from an os error, which the caller names as
// the user wrote it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
