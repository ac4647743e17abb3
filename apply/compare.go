package apply

import (
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"nixvirt.dev/nixvirt/compiler"
)

// node is a generic XML element, for comparing and showing definitions.
type node struct {
	name     string
	attrs    []xml.Attr
	text     string
	children []*node
}

func parseTree(doc string) (*node, error) {
	d := xml.NewDecoder(strings.NewReader(doc))
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if err != nil {
			if root != nil {
				return root, nil
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Local: a.Name.Local}, Value: a.Value})
			}
			sort.Slice(n.attrs, func(i, j int) bool { return n.attrs[i].Name.Local < n.attrs[j].Name.Local })
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += strings.TrimSpace(string(t))
			}
		}
	}
}

// normalize removes what libvirt fills in itself and nixvirt's own mark,
// so that a live definition reads like what a user writes; for a
// comparison (sizes), sizes are also written in bytes.
func normalize(k compiler.Kind, n *node, sizes bool) {
	var keep []*node
	for _, c := range n.children {
		switch {
		case c.name == "metadata":
			var inner []*node
			for _, m := range c.children {
				if m.name != "managed" {
					inner = append(inner, m)
				}
			}
			c.children = inner
			if len(inner) == 0 && c.text == "" {
				continue
			}
		case k == compiler.KindDomain && c.name == "seclabel":
			continue
		case k == compiler.KindPool && poolFigure[c.name]:
			continue
		case k == compiler.KindDomain && c.name == "devices":
			for _, dev := range c.children {
				var kept []*node
				for _, x := range dev.children {
					if x.name != "address" && x.name != "alias" && !generatedTarget(dev, x) {
						kept = append(kept, x)
					}
				}
				dev.children = kept
			}
		}
		keep = append(keep, c)
	}
	n.children = keep
	if sizes {
		scaleToBytes(n)
		for _, c := range n.children {
			if c.name != "metadata" {
				normalizeSizes(c)
			}
		}
	}
	var attrs []xml.Attr
	for _, a := range n.attrs {
		if !(k == compiler.KindDomain && n.name == "domain" && a.Name.Local == "id") {
			attrs = append(attrs, a)
		}
	}
	n.attrs = attrs
}

// contains reports whether every attribute, text and element of want is
// in have: libvirt may add to a definition (defaults, addresses) but an
// unchanged definition loses nothing the user wrote.
func contains(have, want *node) bool {
	if have.name != want.name || (want.text != "" && want.text != have.text) {
		return false
	}
	for _, wa := range want.attrs {
		found := false
		for _, ha := range have.attrs {
			if ha.Name.Local == wa.Name.Local && ha.Value == wa.Value {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	used := make([]bool, len(have.children))
	for _, wc := range want.children {
		found := false
		for i, hc := range have.children {
			if !used[i] && contains(hc, wc) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// render writes a tree indented, attributes sorted, for diffs.
func (n *node) render(b *strings.Builder, indent string) {
	b.WriteString(indent + "<" + n.name)
	for _, a := range n.attrs {
		fmt.Fprintf(b, " %s=%q", a.Name.Local, a.Value)
	}
	switch {
	case len(n.children) == 0 && n.text == "":
		b.WriteString("/>\n")
	case len(n.children) == 0:
		b.WriteString(">" + n.text + "</" + n.name + ">\n")
	default:
		b.WriteString(">\n")
		for _, c := range n.children {
			c.render(b, indent+"  ")
		}
		b.WriteString(indent + "</" + n.name + ">\n")
	}
}

// readable is a definition as shown in plans: normalized and indented.
func readable(k compiler.Kind, doc string) string {
	t, err := parseTree(doc)
	if err != nil {
		return doc
	}
	normalize(k, t, false)
	var b strings.Builder
	t.render(&b, "")
	return b.String()
}

// comparable parses a live and a wanted definition and normalizes both
// for comparison; ok is false when either is not XML.
func comparable(k compiler.Kind, liveXML, wantXML string) (live, want *node, ok bool) {
	live, err1 := parseTree(liveXML)
	want, err2 := parseTree(wantXML)
	if err1 != nil || err2 != nil {
		return nil, nil, false
	}
	normalize(k, live, true)
	normalize(k, want, true)
	return live, want, true
}

// sameDefinition compares a wanted definition with a live one that nixvirt
// has no hash for (an object it does not own yet, or a pool): libvirt may
// have added to it, but nothing the definition says differs.
func sameDefinition(k compiler.Kind, liveXML, wantXML string) bool {
	live, want, ok := comparable(k, liveXML, wantXML)
	return ok && contains(live, want)
}

// equivalent reports whether a definition and a live one contain each
// other: they differ only in how they are written (units, order), not in
// what libvirt would do with them.
func equivalent(k compiler.Kind, liveXML, wantXML string) bool {
	live, want, ok := comparable(k, liveXML, wantXML)
	return ok && contains(live, want) && contains(want, live)
}

// unifiedDiff is a line diff of a and b in unified format, three lines of
// context, or "" when they are equal.
func unifiedDiff(aName, bName, a, b string) string {
	al, bl := splitLines(a), splitLines(b)
	// Longest common subsequence table; definitions are small.
	lcs := make([][]int, len(al)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(bl)+1)
	}
	for i := len(al) - 1; i >= 0; i-- {
		for j := len(bl) - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte // ' ', '-', '+'
		line string
		ai   int
		bi   int
	}
	var ops []op
	i, j := 0, 0
	for i < len(al) || j < len(bl) {
		switch {
		case i < len(al) && j < len(bl) && al[i] == bl[j]:
			ops = append(ops, op{' ', al[i], i, j})
			i++
			j++
		case i < len(al) && (j == len(bl) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, op{'-', al[i], i, j})
			i++
		default:
			ops = append(ops, op{'+', bl[j], i, j})
			j++
		}
	}
	changed := false
	for _, o := range ops {
		changed = changed || o.kind != ' '
	}
	if !changed {
		return ""
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	const ctx = 3
	for k := 0; k < len(ops); {
		if ops[k].kind == ' ' {
			k++
			continue
		}
		start := max(0, k-ctx)
		end := k
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run-end > 2*ctx || run == len(ops) {
				end = min(len(ops), end+ctx)
				break
			}
			end = run
		}
		aStart, bStart, aCount, bCount := ops[start].ai, ops[start].bi, 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				aCount++
			}
			if o.kind != '-' {
				bCount++
			}
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", aStart+1, aCount, bStart+1, bCount)
		for _, o := range ops[start:end] {
			out.WriteString(string(o.kind) + o.line + "\n")
		}
		k = end
	}
	return out.String()
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// unitBytes are libvirt's size units.
var unitBytes = map[string]float64{
	"b": 1, "bytes": 1,
	"KB": 1e3, "k": 1024, "K": 1024, "KiB": 1024,
	"MB": 1e6, "m": 1 << 20, "M": 1 << 20, "MiB": 1 << 20,
	"GB": 1e9, "g": 1 << 30, "G": 1 << 30, "GiB": 1 << 30,
	"TB": 1e12, "t": 1 << 40, "T": 1 << 40, "TiB": 1 << 40,
	"PB": 1e15, "p": 1 << 50, "P": 1 << 50, "PiB": 1 << 50,
	"EB": 1e18, "e": 1 << 60, "E": 1 << 60, "EiB": 1 << 60,
}

func normalizeSizes(n *node) {
	scaleToBytes(n)
	for _, c := range n.children {
		normalizeSizes(c)
	}
}

// scaleToBytes writes a size with a unit as bytes, so that 4 GiB and
// 4194304 KiB compare equal.
func scaleToBytes(n *node) {
	for i, a := range n.attrs {
		if a.Name.Local != "unit" || n.text == "" {
			continue
		}
		mult, ok := unitBytes[a.Value]
		v, err := strconv.ParseFloat(n.text, 64)
		if !ok || err != nil {
			return
		}
		n.text = strconv.FormatFloat(v*mult, 'f', -1, 64)
		n.attrs = append(n.attrs[:i], n.attrs[i+1:]...)
		return
	}
	// Without a unit the text is left as it is: libvirt's default unit
	// differs by element (KiB for domain memory, bytes for volumes).
}
