// Package rng loads libvirt's RelaxNG grammars (XML syntax) into a tree of
// patterns with includes resolved and named definitions combined, ready for
// the schema generator to walk. It supports the subset of RelaxNG that
// libvirt's schemas use.
package rng

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Node is one RelaxNG pattern element: element, attribute, choice, ref, data…
type Node struct {
	Kind     string // local name of the RelaxNG element: "element", "choice", …
	Attrs    map[string]string
	Children []*Node
	Text     string
	// File and Line locate the pattern, for generator diagnostics.
	File string
	Line int
}

// Attr returns the named attribute of the pattern, or "".
func (n *Node) Attr(name string) string { return n.Attrs[name] }

// Grammar is a loaded grammar: its start pattern and its definitions.
type Grammar struct {
	Start   *Node
	Defines map[string]*Node
}

const rngNS = "http://relaxng.org/ns/structure/1.0"

// Load reads the grammar in file and every grammar it includes.
func Load(file string) (*Grammar, error) {
	g := &Grammar{Defines: map[string]*Node{}}
	if err := g.loadFile(file, map[string]bool{}); err != nil {
		return nil, err
	}
	if g.Start == nil {
		return nil, fmt.Errorf("%s: grammar has no <start>", file)
	}
	return g, nil
}

func (g *Grammar) loadFile(file string, seen map[string]bool) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	if seen[abs] {
		// libvirt's grammars include basictypes.rng from several files;
		// including it once is what the RelaxNG semantics amount to here.
		return nil
	}
	seen[abs] = true
	root, err := parseFile(abs)
	if err != nil {
		return err
	}
	if root.Kind != "grammar" {
		return fmt.Errorf("%s: root element is <%s>, want <grammar>", abs, root.Kind)
	}
	for _, c := range root.Children {
		switch c.Kind {
		case "include":
			if err := g.loadFile(filepath.Join(filepath.Dir(abs), c.Attr("href")), seen); err != nil {
				return err
			}
			for _, d := range c.Children {
				if d.Kind == "define" {
					// Definitions inside <include> replace the included ones.
					g.Defines[d.Attr("name")] = group(d)
				}
			}
		case "start":
			g.Start = group(c)
		case "define":
			g.define(c)
		}
	}
	return nil
}

func (g *Grammar) define(d *Node) {
	name := d.Attr("name")
	body := group(d)
	old, ok := g.Defines[name]
	switch {
	case !ok:
		g.Defines[name] = body
	case d.Attr("combine") == "choice":
		g.Defines[name] = &Node{Kind: "choice", Children: []*Node{old, body}, File: d.File, Line: d.Line}
	case d.Attr("combine") == "interleave":
		g.Defines[name] = &Node{Kind: "interleave", Children: []*Node{old, body}, File: d.File, Line: d.Line}
	default:
		g.Defines[name] = body
	}
}

// group turns the children of a container (define, start) into one pattern.
func group(n *Node) *Node {
	if len(n.Children) == 1 {
		return n.Children[0]
	}
	return &Node{Kind: "group", Children: n.Children, File: n.File, Line: n.Line}
}

func parseFile(file string) (*Node, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: nothing to lose
	dec := xml.NewDecoder(f)
	var stack []*Node
	var root *Node
	for {
		line, _ := dec.InputPos()
		tok, err := dec.Token()
		if err != nil {
			if root != nil && err.Error() == "EOF" {
				return root, nil
			}
			return nil, fmt.Errorf("%s:%d: %v", file, line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != rngNS {
				// Annotations from other namespaces (documentation) are skipped.
				if err := dec.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			n := &Node{Kind: t.Name.Local, Attrs: map[string]string{}, File: filepath.Base(file), Line: line}
			for _, a := range t.Attr {
				if a.Name.Space == "" {
					n.Attrs[a.Name.Local] = a.Value
				}
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
				// ns is inherited by descendant name classes.
				if _, ok := n.Attrs["ns"]; !ok && p.Attrs["ns"] != "" {
					n.Attrs["inheritedNS"] = p.Attrs["ns"]
				} else if !ok && p.Attrs["inheritedNS"] != "" {
					n.Attrs["inheritedNS"] = p.Attrs["inheritedNS"]
				}
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		}
		if len(stack) == 0 && root != nil {
			return root, nil
		}
	}
}

// Name returns the element or attribute name of an element/attribute pattern,
// its namespace URI, and whether it is a wildcard (anyName).
func (n *Node) Name() (local, ns string, wildcard bool) {
	ns = n.Attrs["ns"]
	if ns == "" {
		ns = n.Attrs["inheritedNS"]
	}
	if name := n.Attr("name"); name != "" {
		if i := strings.IndexByte(name, ':'); i >= 0 {
			name = name[i+1:]
		}
		return name, ns, false
	}
	for _, c := range n.Children {
		switch c.Kind {
		case "name":
			return strings.TrimSpace(c.Text), ns, false
		case "anyName", "nsName":
			return "", ns, true
		}
	}
	return "", ns, true
}
