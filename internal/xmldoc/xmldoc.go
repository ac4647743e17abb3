// Package xmldoc is nixvirt's one XML tree: libvirt documents read into
// elements with their lines, for import (XML to CUE) and for comparing and
// showing definitions in plans.
//
// Documents come from users and from hosts, so reading is bounded: files
// must be regular and at most MaxFileSize bytes, elements nest at most
// MaxDepth deep and a document has at most MaxElements elements. The tree
// keeps no copy of any element's inner XML; Inner slices the input.
package xmldoc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"
)

// Limits on what Parse and ReadFile accept. libvirt reads an XML file of
// at most 10 MiB (virsh define) and libxml2 nests at most 256 elements
// deep without XML_PARSE_HUGE; the largest domain in libvirt's own tests
// has a few thousand elements.
const (
	MaxFileSize = 10 << 20
	MaxDepth    = 256
	MaxElements = 200_000
)

// Element is an element of a document.
type Element struct {
	Name  string
	Space string // the namespace URL, "" for libvirt's own elements
	// Attrs are the attributes in document order, without namespace
	// declarations.
	Attrs []xml.Attr
	// Text is the element's character data, concatenated as written.
	Text     string
	Children []*Element
	// Line is where the element starts, counted from 1.
	Line int

	src        []byte
	innerStart int64
	innerEnd   int64
}

// Error is a document that cannot be read, at a line (0 when unknown).
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// Parse reads a document with exactly one root element.
func Parse(data []byte) (*Element, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*Element
	var root *Element
	count := 0
	for {
		before := d.InputOffset()
		line, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			if root == nil {
				return nil, &Error{Msg: "no XML document"}
			}
			return root, nil
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &Error{Line: se.Line, Msg: se.Msg}
			}
			return nil, &Error{Line: line, Msg: err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == MaxDepth {
				return nil, &Error{Line: line, Msg: fmt.Sprintf("elements nested deeper than %d", MaxDepth)}
			}
			if count++; count > MaxElements {
				return nil, &Error{Line: line, Msg: fmt.Sprintf("more than %d elements", MaxElements)}
			}
			e := &Element{Name: t.Name.Local, Space: t.Name.Space, Line: line, src: data, innerStart: d.InputOffset()}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				e.Attrs = append(e.Attrs, a)
			}
			switch {
			case len(stack) > 0:
				p := stack[len(stack)-1]
				p.Children = append(p.Children, e)
			case root == nil:
				root = e
			default:
				return nil, &Error{Line: line, Msg: fmt.Sprintf("a second root element <%s>", t.Name.Local)}
			}
			stack = append(stack, e)
		case xml.EndElement:
			e := stack[len(stack)-1]
			e.innerEnd = before
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		}
	}
}

// ReadFile reads a document file: a regular file of at most MaxFileSize
// bytes, so that a path such as /dev/zero or a FIFO is an error rather
// than a hang or an exhausted memory. Its own errors do not name the
// file; the caller names it as the user wrote it.
func ReadFile(path string) ([]byte, error) {
	// Opened without blocking: opening a FIFO would otherwise wait for a
	// writer before Stat could tell what it is.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	// Only read: a failure to close loses nothing.
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file but %s", fileType(st.Mode()))
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%d bytes, more than the %d an XML document may have", st.Size(), MaxFileSize)
	}
	// The file may grow after Stat: read one byte more than allowed.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("more than the %d bytes an XML document may have", MaxFileSize)
	}
	return data, nil
}

// ReadAll reads a document from a stream (standard input), at most
// MaxFileSize bytes.
func ReadAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("more than the %d bytes an XML document may have", MaxFileSize)
	}
	return data, nil
}

func fileType(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// Inner is the element's content as written in the document (for
// <metadata>, which nixvirt keeps as raw XML).
func (e *Element) Inner() string {
	if e.src == nil || e.innerEnd < e.innerStart {
		return ""
	}
	return string(e.src[e.innerStart:e.innerEnd])
}

// Attr is the value of an attribute without a namespace.
func (e *Element) Attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// Child is the first child element with a name, or nil.
func (e *Element) Child(name string) *Element {
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// RemoveChildren removes the child elements with any of the names.
func (e *Element) RemoveChildren(names ...string) {
	kept := e.Children[:0]
	for _, c := range e.Children {
		if !contains(names, c.Name) {
			kept = append(kept, c)
		}
	}
	e.Children = kept
}

// RemoveAttrs removes the attributes with any of the names.
func (e *Element) RemoveAttrs(names ...string) {
	kept := e.Attrs[:0]
	for _, a := range e.Attrs {
		if !contains(names, a.Name.Local) {
			kept = append(kept, a)
		}
	}
	e.Attrs = kept
}

func contains(names []string, n string) bool {
	for _, m := range names {
		if m == n {
			return true
		}
	}
	return false
}

// Render writes the tree indented, one element or text per line, with
// attributes sorted by name and text trimmed: a form for line diffs, not
// for libvirt (namespaces are left out).
func (e *Element) Render() string {
	var b strings.Builder
	e.render(&b, "")
	return b.String()
}

func (e *Element) render(b *strings.Builder, indent string) {
	b.WriteString(indent + "<" + e.Name)
	attrs := append([]xml.Attr(nil), e.Attrs...)
	sort.SliceStable(attrs, func(i, j int) bool { return attrs[i].Name.Local < attrs[j].Name.Local })
	for _, a := range attrs {
		fmt.Fprintf(b, " %s=%q", a.Name.Local, a.Value)
	}
	text := strings.TrimSpace(e.Text)
	switch {
	case len(e.Children) == 0 && text == "":
		b.WriteString("/>\n")
	case len(e.Children) == 0:
		b.WriteString(">" + text + "</" + e.Name + ">\n")
	default:
		b.WriteString(">\n")
		for _, c := range e.Children {
			c.render(b, indent+"  ")
		}
		b.WriteString(indent + "</" + e.Name + ">\n")
	}
}
