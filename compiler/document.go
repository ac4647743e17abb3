package compiler

import (
	"encoding/xml"
	"fmt"
	"strings"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/internal/xmlspec"
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
	root := &xmlNode{name: k.Info().Root, src: u}
	w := &writer{schema: s}
	if err := w.buildNode(u, s.Def(k.Definition()), k.Definition(), root); err != nil {
		return "", err
	}
	return finishXML(root, k, u)
}

// finishXML writes the tree through libvirtxml and checks that it kept
// everything; u is the value errors name.
func finishXML(root *xmlNode, k Kind, u cue.Value) (string, error) {
	var b strings.Builder
	root.write(&b)
	doc := newDocument(k)
	if err := doc.Unmarshal(b.String()); err != nil {
		return "", newPathError(u, "libvirtxml cannot read the %s: %v", k, err)
	}
	out, err := doc.Marshal()
	if err != nil {
		return "", newPathError(u, "libvirtxml cannot write the %s: %v", k, err)
	}
	if err := checkKept(root, out); err != nil {
		return "", err
	}
	return out + "\n", nil
}

// checkKept compares what was written with what libvirtxml kept, as
// multisets of element paths, attribute names and texts.
func checkKept(root *xmlNode, out string) error {
	kept, err := xmlKeys(out)
	if err != nil {
		return err
	}
	// Per key, how many were written and the value that wrote the last.
	type written struct {
		n    int
		last cue.Value
	}
	wrote := map[string]*written{}
	add := func(key string, src cue.Value) {
		w := wrote[key]
		if w == nil {
			w = &written{}
			wrote[key] = w
		}
		w.n++
		w.last = src
	}
	var walk func(n *xmlNode, path string)
	walk = func(n *xmlNode, path string) {
		path += "/" + n.name
		// An element with nothing in it that libvirtxml leaves out (a
		// volume's <source/>, an empty <description>) says nothing.
		if len(n.attrs) == 0 && len(n.children) == 0 && strings.TrimSpace(n.text) == "" && n.raw == "" && path != "" && strings.Count(path, "/") > 1 {
			return
		}
		add(path, n.src)
		for _, a := range n.attrs {
			add(path+"@"+a.name, a.src)
		}
		if n.hasText && strings.TrimSpace(n.text) != "" {
			add(path+"#text", n.textSrc)
		}
		if n.raw != "" {
			return
		}
		for _, c := range n.children {
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
	return newPathError(wrote[first].last, "libvirt has no place for %s here: %s",
		describeKey(first), "check that it fits the element's type (libvirtxml "+xmlspec.LibvirtxmlVersion+" drops it)")
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
