package apply

import (
	"encoding/xml"
	"strings"
)

// Every plan reads the mark of every domain and network on the host
// (readMark), and reading it with a regular expression and encoding/xml
// was the largest part of a no-op plan's own work: about 0.13 ms per
// object, against 0.01 ms here. readMarkFast reads the mark as libvirt
// writes it, and declines anything else, which readMark then reads the
// slow way: it answers only where both answer alike (FuzzReadMark).

// readMarkFast reads the mark whose start tag holds the first mention of
// nixvirt's namespace, at ns; false when that is not plainly so.
func readMarkFast(liveXML string, ns int) (mark, bool) {
	el, ok := markElement(liveXML, ns)
	if !ok {
		return mark{}, false
	}
	return decodeMarkFast(el)
}

// markElement is the element whose start tag holds the mention of
// nixvirt's namespace at ns, if it is a <managed> element (with a
// prefix or not) whose content is text: its start tag, its text and its
// end tag. In XML as libvirt writes it, a raw "<" only starts a tag (the
// mark's content, the definition it records, is escaped text), so the
// first end tag ends it.
func markElement(liveXML string, ns int) (string, bool) {
	start := strings.LastIndexByte(liveXML[:ns], '<')
	end := strings.IndexByte(liveXML[ns:], '>')
	if start < 0 || end < 0 || strings.IndexByte(liveXML[start:ns], '>') >= 0 {
		// The mention is text, not in a tag.
		return "", false
	}
	tag := liveXML[start : ns+end+1]
	name := tag[1:strings.IndexAny(tag, " \t\r\n/>")]
	prefix, local, prefixed := strings.Cut(name, ":")
	if !prefixed {
		prefix, local = "", name
	}
	if local != "managed" || prefixed && !isPrefix(prefix) {
		return "", false
	}
	if strings.HasSuffix(tag, "/>") {
		return tag, true
	}
	rest := liveXML[ns+end+1:]
	closing := "</" + name + ">"
	j := strings.Index(rest, closing)
	if j < 0 || strings.IndexByte(rest[:j], '<') >= 0 {
		return "", false
	}
	return liveXML[start : ns+end+1+j+len(closing)], true
}

// isPrefix reports whether s is a name without a prefix, of the kind
// libvirt writes (letters, digits, "_", "." and "-"): a namespace prefix,
// an attribute's name.
func isPrefix(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// decodeMarkFast reads a mark element (markElement): its attributes
// (each once, unprefixed but for the namespace's declaration, quoted,
// with the five named entities of XML at most) and its text (the same
// entities). It declines an element of another namespace, and one with
// anything else: a character reference, a carriage return or another
// control character, a byte beyond ASCII, "]]>".
func decodeMarkFast(el string) (mark, bool) {
	var m mark
	if !plainASCII(el) || strings.Contains(el, "]]>") {
		return m, false
	}
	nameEnd := strings.IndexAny(el, " \t\n/>")
	name := el[1:nameEnd]
	nsAttr := "xmlns"
	if prefix, _, ok := strings.Cut(name, ":"); ok {
		nsAttr += ":" + prefix
	}
	rest := el[nameEnd:]
	seen := map[string]bool{}
	inNS := false
	for {
		rest = strings.TrimLeft(rest, " \t\n")
		if strings.HasPrefix(rest, "/>") || strings.HasPrefix(rest, ">") {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 || eq+1 >= len(rest) || (rest[eq+1] != '"' && rest[eq+1] != '\'') {
			return m, false
		}
		attr := rest[:eq]
		closing := strings.IndexByte(rest[eq+2:], rest[eq+1])
		if closing < 0 || seen[attr] {
			return m, false
		}
		seen[attr] = true
		raw := rest[eq+2 : eq+2+closing]
		value, ok := unescapeText(raw)
		if !ok || strings.ContainsAny(raw, "<\t\n") {
			return m, false
		}
		rest = rest[eq+2+closing+1:]
		switch {
		case attr == nsAttr:
			inNS = value == markNS
		case !isPrefix(attr):
			// Another namespace's attribute, or not XML.
			return m, false
		case attr == "owner":
			m.Owner = value
		case attr == "uuid":
			m.UUID = value
		case attr == "hash":
			m.Hash = value
		}
	}
	if !inNS {
		return mark{}, false
	}
	m.XMLName = xml.Name{Space: markNS, Local: "managed"}
	if strings.HasPrefix(rest, "/>") {
		return m, len(rest) == 2
	}
	text, ok := strings.CutSuffix(rest[1:], "</"+name+">")
	if !ok {
		return mark{}, false
	}
	if m.Definition, ok = unescapeText(text); !ok {
		return mark{}, false
	}
	return m, true
}

// plainASCII reports whether s is printable ASCII, tabs and newlines.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x7f || c < 0x20 && c != '\t' && c != '\n' {
			return false
		}
	}
	return true
}

// unescapeText replaces the five entities XML names in text; false for a
// character reference or anything else after an "&".
func unescapeText(s string) (string, bool) {
	i := strings.IndexByte(s, '&')
	if i < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		s = s[i+1:]
		semi := strings.IndexByte(s, ';')
		if semi < 0 {
			return "", false
		}
		switch s[:semi] {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "quot":
			b.WriteByte('"')
		case "apos":
			b.WriteByte('\'')
		default:
			return "", false
		}
		s = s[semi+1:]
		i = strings.IndexByte(s, '&')
	}
	b.WriteString(s)
	return b.String(), true
}
