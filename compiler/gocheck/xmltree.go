package gocheck

import (
	"encoding/xml"
	"fmt"
	"strings"
	"unicode/utf8"

	"nixvirt.dev/nixvirt/internal/xmlspec"
)

// Node is an element being written: by the Go checker from JSON, or by
// package compiler's writer from a checked CUE value. Every element,
// attribute and text remembers the value it came from (Src, TextSrc: the
// writer's CUE values, nil from JSON), so that anything libvirtxml would
// drop can be reported at the user's line.
type Node struct {
	Name     string
	NS       string
	Attrs    []Attr
	Children []*Node
	Text     string
	HasText  bool
	// Raw is XML written as it is (metadata).
	Raw     string
	Src     any
	TextSrc any
}

// Attr is an attribute of a Node.
type Attr struct {
	Name, NS, Value string
	Src             any
}

// Child returns the named child element, creating it first.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	c := &Node{Name: name, Src: n.Src}
	n.Children = append(n.Children, c)
	return c
}

// FinishError is a document libvirtxml cannot take whole: Src is the
// value (of a Node) the message is about.
type FinishError struct {
	Src any
	Msg string
}

func (e *FinishError) Error() string { return e.Msg }

// Finish writes the tree through libvirtxml, which writes it in libvirt's
// own element order, and checks that it kept everything: an attribute or
// element that libvirtxml would not keep is a FinishError at the value
// that wrote it, so nothing the user wrote is dropped silently.
func Finish(root *Node, k Kind) (string, error) {
	var b strings.Builder
	root.write(&b)
	doc := NewDocument(k)
	if err := doc.Unmarshal(b.String()); err != nil {
		return "", &FinishError{Src: root.Src, Msg: fmt.Sprintf("libvirtxml cannot read the %s: %v", k, err)}
	}
	out, err := doc.Marshal()
	if err != nil {
		return "", &FinishError{Src: root.Src, Msg: fmt.Sprintf("libvirtxml cannot write the %s: %v", k, err)}
	}
	if err := checkKept(root, out); err != nil {
		return "", err
	}
	return out + "\n", nil
}

// checkKept compares what was written with what libvirtxml kept, as
// multisets of element paths, attribute names and texts.
func checkKept(root *Node, out string) error {
	kept, err := xmlKeys(out)
	if err != nil {
		return err
	}
	// Per key, how many were written and the value that wrote the last.
	type written struct {
		n    int
		last any
	}
	wrote := map[string]*written{}
	add := func(key string, src any) {
		w := wrote[key]
		if w == nil {
			w = &written{}
			wrote[key] = w
		}
		w.n++
		w.last = src
	}
	var walk func(n *Node, path string)
	walk = func(n *Node, path string) {
		path += "/" + n.Name
		// An element with nothing in it that libvirtxml leaves out (a
		// volume's <source/>, an empty <description>) says nothing.
		if len(n.Attrs) == 0 && len(n.Children) == 0 && strings.TrimSpace(n.Text) == "" && n.Raw == "" && path != "" && strings.Count(path, "/") > 1 {
			return
		}
		add(path, n.Src)
		for _, a := range n.Attrs {
			add(path+"@"+a.Name, a.Src)
		}
		if n.HasText && strings.TrimSpace(n.Text) != "" {
			add(path+"#text", n.TextSrc)
		}
		if n.Raw != "" {
			return
		}
		for _, c := range n.Children {
			walk(c, path)
		}
	}
	walk(root, "")
	// The first key dropped, in sorted order, names the error.
	first := ""
	for k, w := range wrote {
		if w.n > kept[k] && (first == "" || k < first) {
			first = k
		}
	}
	if first == "" {
		return nil
	}
	return &FinishError{Src: wrote[first].last, Msg: fmt.Sprintf("libvirt has no place for %s here: %s",
		describeKey(first), "check that it fits the element's type (libvirtxml "+xmlspec.LibvirtxmlVersion+" drops it)")}
}

func describeKey(k string) string {
	if i := strings.LastIndexByte(k, '@'); i >= 0 {
		return fmt.Sprintf("attribute %q of <%s>", k[i+1:], k[strings.LastIndexByte(k[:i], '/')+1:i])
	}
	if strings.HasSuffix(k, "#text") {
		p := strings.TrimSuffix(k, "#text")
		return fmt.Sprintf("the text of <%s>", p[strings.LastIndexByte(p, '/')+1:])
	}
	return fmt.Sprintf("element <%s>", k[strings.LastIndexByte(k, '/')+1:])
}

// xmlKeys counts the element paths, attributes and texts of a document
// that libvirtxml wrote.
func xmlKeys(doc string) (map[string]int, error) {
	if keys, ok := plainXMLKeys(doc); ok {
		return keys, nil
	}
	return decodedXMLKeys(doc)
}

// decodedXMLKeys is xmlKeys by encoding/xml's decoder, for any document.
func decodedXMLKeys(doc string) (map[string]int, error) {
	keys := map[string]int{}
	d := xml.NewDecoder(strings.NewReader(doc))
	var stack []string
	rawDepth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				return keys, nil
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if rawDepth > 0 {
				rawDepth++
				continue
			}
			path := "/" + t.Name.Local
			if len(stack) > 0 {
				path = stack[len(stack)-1] + path
			}
			stack = append(stack, path)
			keys[path]++
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				keys[path+"@"+a.Name.Local]++
			}
			if t.Name.Local == "metadata" {
				rawDepth = 1
			}
		case xml.EndElement:
			if rawDepth > 1 {
				rawDepth--
				continue
			}
			rawDepth = 0
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if rawDepth == 0 && len(stack) > 0 && strings.TrimSpace(string(t)) != "" {
				keys[stack[len(stack)-1]+"#text"]++
			}
		}
	}
}

// plainXMLKeys is xmlKeys for a document in the plain form encoding/xml's
// writer gives libvirtxml's documents: start tags with double-quoted
// attributes (quotes and '>' escaped inside), end tags, and text without
// entities. Reading it by hand takes a tenth of the time of
// encoding/xml's decoder, which was a third of compiling a document.
// Anything else (<metadata>, whose content is the user's own XML, a
// comment, an empty-element tag, a prefixed name, an entity in a text)
// reports false, for xmlKeys to decode.
func plainXMLKeys(doc string) (map[string]int, bool) {
	if strings.Contains(doc, "<metadata") || strings.Contains(doc, "<!") || strings.Contains(doc, "<?") || strings.Contains(doc, "/>") {
		return nil, false
	}
	keys := map[string]int{}
	var stack []string
	for i := 0; i < len(doc); {
		lt := strings.IndexByte(doc[i:], '<')
		text := doc[i:]
		if lt >= 0 {
			text = doc[i : i+lt]
		}
		if strings.IndexByte(text, '&') >= 0 {
			return nil, false
		}
		if len(stack) > 0 && strings.TrimSpace(text) != "" {
			keys[stack[len(stack)-1]+"#text"]++
		}
		if lt < 0 {
			break
		}
		i += lt
		gt := strings.IndexByte(doc[i:], '>')
		if gt < 0 {
			return nil, false
		}
		tag := doc[i+1 : i+gt]
		i += gt + 1
		if end, ok := strings.CutPrefix(tag, "/"); ok {
			if len(stack) == 0 || !strings.HasSuffix(stack[len(stack)-1], "/"+end) {
				return nil, false
			}
			stack = stack[:len(stack)-1]
			continue
		}
		name, attrs, _ := strings.Cut(tag, " ")
		if name == "" || strings.ContainsAny(name, ":\"'=\t\n\r/") {
			return nil, false
		}
		path := "/" + name
		if len(stack) > 0 {
			path = stack[len(stack)-1] + path
		}
		stack = append(stack, path)
		keys[path]++
		for attrs != "" {
			attr, rest, ok := strings.Cut(attrs, "=\"")
			if !ok || attr == "" || strings.ContainsAny(attr, ": \t\n\r\"'") {
				return nil, false
			}
			end := strings.IndexByte(rest, '"')
			if end < 0 {
				return nil, false
			}
			if attr != "xmlns" {
				keys[path+"@"+attr]++
			}
			attrs = rest[end+1:]
			if attrs != "" {
				if attrs[0] != ' ' {
					return nil, false
				}
				attrs = attrs[1:]
			}
		}
	}
	return keys, len(stack) == 0
}

// NotXMLChar finds the first character of s that XML 1.0 does not allow
// (its Char production: tab, newline, carriage return, and U+0020 to
// U+10FFFF but for the surrogates, U+FFFE and U+FFFF), which Go's XML
// writer would replace with U+FFFD without a word.
func NotXMLChar(s string) (int, rune, bool) {
	for i, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return i, r, true
		case r == utf8.RuneError:
			// Invalid UTF-8 is not a character either.
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i, r, true
			}
		}
	}
	return 0, 0, false
}

// write serialises the tree. Its layout does not matter: the document is
// parsed by libvirtxml and written again in libvirt's own order.
func (n *Node) write(b *strings.Builder) {
	b.WriteByte('<')
	b.WriteString(n.Name)
	if n.NS != "" {
		fmt.Fprintf(b, " xmlns=%q", n.NS)
	}
	for _, a := range n.Attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name)
		b.WriteString(`="`)
		xml.EscapeText(b2w{b}, []byte(a.Value))
		b.WriteByte('"')
	}
	b.WriteByte('>')
	if n.HasText {
		xml.EscapeText(b2w{b}, []byte(n.Text))
	}
	b.WriteString(n.Raw)
	for _, c := range n.Children {
		c.write(b)
	}
	b.WriteString("</")
	b.WriteString(n.Name)
	b.WriteByte('>')
}

type b2w struct{ b *strings.Builder }

func (w b2w) Write(p []byte) (int, error) { return w.b.Write(p) }
