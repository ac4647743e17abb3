// Package schemagen turns libvirt's RelaxNG grammars into closed CUE
// definitions in nixvirt's vocabulary (README.md, "The vocabulary"). It is run by
// `go generate ./schemas`; its output carries a "Code generated" header.
//
// The walk has two steps. First every RelaxNG <element> pattern is reduced
// to its content: attributes, text and child element patterns, each with
// flags for "required" and "may repeat". Then the element patterns that
// can stand at one place of a document under one name (libvirt often
// defines <source> once per disk type) are merged into one shape, which
// becomes one CUE definition. Merging loses "attribute X only with type Y"
// constraints; libvirtxml's conversion in the compiler reports such
// combinations, because it drops what does not apply and the compiler
// checks that nothing was dropped.
package schemagen

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"nixvirt.dev/nixvirt/internal/rng"
)

// valueType is the set of lexical values an attribute or a text node takes.
type valueType struct {
	anyString bool
	enums     []string
	patterns  []string
	// typeNames name each pattern by the grammar's type (the <define>)
	// it came from, the outermost where types nest (ipAddr, not the
	// ipv4Addr inside it): what an error says the value is not.
	typeNames map[string]string
	ints      []intRange
	// patternInts are the ranges of the integer data types given by a
	// pattern of digits (libvirt's unsignedLong is `[0-9]+` of type
	// unsignedLong): the bounds of the integer alternative those patterns
	// have. A numeric pattern of no integer type adds an unbounded range.
	patternInts []intRange
	float       bool
	// intText: free text that also takes an integer (numbersAsText).
	intText bool
	path    bool // came through a *Path definition: its text field is named "path"
	// emptyOK: the element may also be empty (<genid/>), so "" is a value.
	emptyOK bool
}

type intRange struct {
	min, max string // "" for unbounded
}

func (v *valueType) addEnum(s string) {
	for _, e := range v.enums {
		if e == s {
			return
		}
	}
	v.enums = append(v.enums, s)
}

func (v *valueType) union(o *valueType) {
	if o == nil {
		return
	}
	v.anyString = v.anyString || o.anyString
	v.emptyOK = v.emptyOK || o.emptyOK
	v.float = v.float || o.float
	v.path = v.path || o.path
	for _, e := range o.enums {
		v.addEnum(e)
	}
	for _, p := range o.patterns {
		if !contains(v.patterns, p) {
			v.patterns = append(v.patterns, p)
		}
		if n, ok := o.typeNames[p]; ok && v.typeNames[p] == "" {
			v.nameType(p, n)
		}
	}
	v.ints = addRanges(v.ints, o.ints)
	v.patternInts = addRanges(v.patternInts, o.patternInts)
}

// nameType names pattern p after the grammar's type it came from.
func (v *valueType) nameType(p, name string) {
	if v.typeNames == nil {
		v.typeNames = map[string]string{}
	}
	v.typeNames[p] = name
}

// namedAs names every pattern of v after type name, which v is the
// value of: an enclosing type's name replaces the names of the types it
// is made of, when it has words of its own (typeWords; pciBus, a uint8,
// has none, and is said as one).
func (v *valueType) namedAs(name string) {
	if _, ok := typeWords[name]; !ok {
		return
	}
	for _, p := range v.patterns {
		v.nameType(p, name)
	}
}

func addRanges(to, from []intRange) []intRange {
	for _, r := range from {
		dup := false
		for _, x := range to {
			dup = dup || x == r
		}
		if !dup {
			to = append(to, r)
		}
	}
	return to
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// boolStyle reports whether the value set is exactly yes/no or on/off.
func (v *valueType) boolStyle() string {
	if v.anyString || len(v.patterns) > 0 || len(v.ints) > 0 || v.float || len(v.enums) != 2 {
		return ""
	}
	set := map[string]bool{v.enums[0]: true, v.enums[1]: true}
	switch {
	case set["yes"] && set["no"]:
		return "yesno"
	case set["on"] && set["off"]:
		return "onoff"
	}
	return ""
}

type attrUse struct {
	name, ns string
	vt       *valueType
	required bool
	newer    bool // from libvirtxml: newer than the grammar
}

type childUse struct {
	name, ns string
	nodes    []*rng.Node
	multiple bool
	required bool
	synth    *shape // an element only libvirtxml has
	newer    bool
}

// content is what one element pattern (or one branch of a choice) holds.
type content struct {
	attrs    []*attrUse
	children []*childUse
	text     *valueType
	raw      bool // any element or attribute allowed: written as raw XML
	never    bool // notAllowed: a branch that cannot match
}

func (c *content) attr(name string) *attrUse {
	for _, a := range c.attrs {
		if a.name == name {
			return a
		}
	}
	return nil
}

func (c *content) child(name, ns string) *childUse {
	for _, ch := range c.children {
		if ch.name == name && ch.ns == ns {
			return ch
		}
	}
	return nil
}

// addSeq adds o to c as patterns that both occur (group, interleave).
func (c *content) addSeq(o *content) {
	if o.never {
		c.never = true
	}
	c.raw = c.raw || o.raw
	if o.text != nil {
		if c.text == nil {
			c.text = &valueType{}
		}
		c.text.union(o.text)
	}
	for _, a := range o.attrs {
		if x := c.attr(a.name); x != nil {
			x.vt.union(a.vt)
			x.required = x.required || a.required
		} else {
			cp := *a
			cp.vt = &valueType{}
			cp.vt.union(a.vt)
			c.attrs = append(c.attrs, &cp)
		}
	}
	for _, ch := range o.children {
		if x := c.child(ch.name, ch.ns); x != nil {
			// The same element twice in a sequence: it repeats.
			x.nodes = appendNodes(x.nodes, ch.nodes...)
			x.multiple = true
			x.required = x.required || ch.required
		} else {
			cp := *ch
			cp.nodes = append([]*rng.Node(nil), ch.nodes...)
			c.children = append(c.children, &cp)
		}
	}
}

// addAlt merges the branches of a choice: a field is required only when
// every branch requires it.
func mergeAlt(branches []*content) *content {
	var live []*content
	for _, b := range branches {
		if !b.never {
			live = append(live, b)
		}
	}
	out := &content{}
	if len(live) == 0 {
		out.never = true
		return out
	}
	for _, b := range live {
		out.raw = out.raw || b.raw
		if b.text != nil {
			if out.text == nil {
				out.text = &valueType{}
			}
			out.text.union(b.text)
		}
	}
	if out.text != nil {
		for _, b := range live {
			if b.text == nil && len(b.children) == 0 {
				// One branch is empty: the element may be (<genid/>).
				out.text.emptyOK = true
			}
		}
	}
	for _, b := range live {
		for _, a := range b.attrs {
			if x := out.attr(a.name); x != nil {
				x.vt.union(a.vt)
			} else {
				cp := *a
				cp.vt = &valueType{}
				cp.vt.union(a.vt)
				out.attrs = append(out.attrs, &cp)
			}
		}
		for _, ch := range b.children {
			if x := out.child(ch.name, ch.ns); x != nil {
				x.nodes = appendNodes(x.nodes, ch.nodes...)
				x.multiple = x.multiple || ch.multiple
			} else {
				cp := *ch
				cp.nodes = append([]*rng.Node(nil), ch.nodes...)
				out.children = append(out.children, &cp)
			}
		}
	}
	for _, a := range out.attrs {
		a.required = true
		for _, b := range live {
			x := b.attr(a.name)
			a.required = a.required && x != nil && x.required
		}
	}
	for _, ch := range out.children {
		ch.required = true
		for _, b := range live {
			x := b.child(ch.name, ch.ns)
			ch.required = ch.required && x != nil && x.required
		}
	}
	return out
}

func appendNodes(list []*rng.Node, add ...*rng.Node) []*rng.Node {
	for _, n := range add {
		found := false
		for _, x := range list {
			found = found || x == n
		}
		if !found {
			list = append(list, n)
		}
	}
	return list
}

// walker reduces patterns of one grammar.
type walker struct {
	g        *rng.Grammar
	contents map[*rng.Node]*content
}

// elementContent returns the content of an <element> pattern.
func (w *walker) elementContent(el *rng.Node) *content {
	if c, ok := w.contents[el]; ok {
		return c
	}
	c := &content{}
	w.contents[el] = c
	var body []*rng.Node
	for _, ch := range el.Children {
		if ch.Kind != "name" && ch.Kind != "anyName" && ch.Kind != "nsName" {
			body = append(body, ch)
		}
	}
	*c = *w.seq(body, false, false)
	return c
}

func (w *walker) seq(nodes []*rng.Node, optional, multiple bool) *content {
	c := &content{}
	for _, n := range nodes {
		c.addSeq(w.pattern(n, optional, multiple))
	}
	return c
}

// pattern reduces one pattern inside an element's content. Child elements
// are recorded, not entered: their content is reduced on its own.
func (w *walker) pattern(n *rng.Node, optional, multiple bool) *content {
	switch n.Kind {
	case "element":
		name, ns, wild := n.Name()
		if wild {
			return &content{raw: true}
		}
		return &content{children: []*childUse{{name: name, ns: ns, nodes: []*rng.Node{n}, multiple: multiple, required: !optional}}}
	case "attribute":
		name, ns, wild := n.Name()
		if wild {
			return &content{raw: true}
		}
		var body []*rng.Node
		for _, ch := range n.Children {
			if ch.Kind != "name" && ch.Kind != "anyName" && ch.Kind != "nsName" {
				body = append(body, ch)
			}
		}
		vt := &valueType{anyString: len(body) == 0}
		for _, b := range body {
			vt.union(w.value(b, map[string]bool{}))
		}
		return &content{attrs: []*attrUse{{name: name, ns: ns, vt: vt, required: !optional}}}
	case "text":
		return &content{text: &valueType{anyString: true}}
	case "data", "value", "list":
		return &content{text: w.value(n, map[string]bool{})}
	case "ref", "parentRef":
		d, ok := w.g.Defines[n.Attr("name")]
		if !ok {
			panic(fmt.Sprintf("%s:%d: reference to undefined %q", n.File, n.Line, n.Attr("name")))
		}
		c := w.pattern(d, optional, multiple)
		if c.text != nil && isPathName(n.Attr("name")) {
			c.text.path = true
		}
		if c.text != nil && len(c.attrs) == 0 && len(c.children) == 0 {
			// A type of text (<element name="uuid"><ref name="UUID"/>).
			c.text.namedAs(n.Attr("name"))
		}
		return c
	case "optional":
		return w.seq(n.Children, true, multiple)
	case "zeroOrMore":
		return w.seq(n.Children, true, true)
	case "oneOrMore":
		return w.seq(n.Children, optional, true)
	case "group", "interleave":
		return w.seq(n.Children, optional, multiple)
	case "mixed":
		c := w.seq(n.Children, optional, multiple)
		c.addSeq(&content{text: &valueType{anyString: true}})
		return c
	case "choice":
		var branches []*content
		for _, b := range n.Children {
			branches = append(branches, w.pattern(b, false, multiple))
		}
		c := mergeAlt(branches)
		if optional {
			for _, a := range c.attrs {
				a.required = false
			}
			for _, ch := range c.children {
				ch.required = false
			}
		}
		return c
	case "empty":
		return &content{}
	case "notAllowed":
		return &content{never: true}
	}
	panic(fmt.Sprintf("%s:%d: unsupported RelaxNG pattern <%s>", n.File, n.Line, n.Kind))
}

func isPathName(def string) bool {
	return strings.HasSuffix(def, "Path") || strings.HasSuffix(def, "path")
}

var intBounds = map[string]intRange{
	"int":                {"-2147483648", "2147483647"},
	"integer":            {"", ""},
	"long":               {"-9223372036854775808", "9223372036854775807"},
	"short":              {"-32768", "32767"},
	"unsignedInt":        {"0", "4294967295"},
	"unsignedLong":       {"0", "18446744073709551615"},
	"unsignedShort":      {"0", "65535"},
	"unsignedByte":       {"0", "255"},
	"positiveInteger":    {"1", ""},
	"nonNegativeInteger": {"0", ""},
}

// narrowed is the type's range within the data pattern's minInclusive
// and maxInclusive, which libvirt's parsers enforce (a vcpu count of 0, a
// prefix of 33) even where the XML type alone would allow the value.
func narrowed(r intRange, data *rng.Node) intRange {
	for _, p := range data.Children {
		if p.Kind != "param" {
			continue
		}
		switch p.Attr("name") {
		case "minInclusive":
			r.min = strings.TrimSpace(p.Text)
		case "maxInclusive":
			r.max = strings.TrimSpace(p.Text)
		}
	}
	return r
}

// value reduces a pattern that stands for an attribute value or text.
func (w *walker) value(n *rng.Node, refs map[string]bool) *valueType {
	vt := &valueType{}
	switch n.Kind {
	case "value":
		vt.addEnum(strings.TrimSpace(n.Text))
	case "data":
		typ := n.Attr("type")
		var pattern string
		for _, p := range n.Children {
			if p.Kind == "param" && p.Attr("name") == "pattern" {
				pattern = p.Text
			}
		}
		switch {
		case pattern != "":
			vt.patterns = append(vt.patterns, pattern)
			if patternMatchesNumber(pattern) {
				vt.patternInts = append(vt.patternInts, narrowed(intBounds[typ], n))
			}
		case typ == "double" || typ == "decimal" || typ == "float":
			vt.float = true
		default:
			if r, ok := intBounds[typ]; ok {
				vt.ints = append(vt.ints, narrowed(r, n))
			} else {
				vt.anyString = true
			}
		}
	case "text", "list", "empty":
		vt.anyString = true
	case "choice", "group":
		for _, c := range n.Children {
			vt.union(w.value(c, refs))
		}
	case "ref":
		name := n.Attr("name")
		if refs[name] {
			return vt
		}
		refs[name] = true
		vt.union(w.value(w.g.Defines[name], refs))
		vt.namedAs(name)
		if isPathName(name) {
			vt.path = true
		}
	case "notAllowed":
	default:
		panic(fmt.Sprintf("%s:%d: unsupported value pattern <%s>", n.File, n.Line, n.Kind))
	}
	return vt
}

// shape is the merged content of the element patterns that can stand at
// one place of a document.
type shape struct {
	key      string
	elemName string
	ns       string
	nodes    []*rng.Node
	attrs    []*attrUse
	children []*childUse
	text     *valueType
	raw      bool
	defName  string // CUE definition name, once assigned
	path     string // first document path it was reached by, for naming
	// synthFrom names the libvirtxml type of an element the grammar lacks.
	synthFrom string
	newerText bool
	// wasEmpty: the grammar has the element empty and libvirtxml gives it
	// attributes; `true` still writes it empty.
	wasEmpty bool
}

func (s *shape) empty() bool {
	return len(s.attrs) == 0 && len(s.children) == 0 && s.text == nil && !s.raw
}

func (s *shape) textOnly() bool {
	return len(s.attrs) == 0 && len(s.children) == 0 && s.text != nil && !s.raw
}

func nodeKey(nodes []*rng.Node) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = fmt.Sprintf("%s:%d", n.File, n.Line)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// shapeOf merges the content of element patterns into a shape.
func (w *walker) shapeOf(name, ns string, nodes []*rng.Node, shapes map[string]*shape) *shape {
	key := name + "|" + nodeKey(nodes)
	if s, ok := shapes[key]; ok {
		return s
	}
	s := &shape{key: key, elemName: name, ns: ns, nodes: nodes}
	shapes[key] = s
	var cs []*content
	for _, n := range nodes {
		cs = append(cs, w.elementContent(n))
	}
	m := mergeAlt(cs)
	s.attrs, s.children, s.text, s.raw = m.attrs, m.children, m.text, m.raw
	return s
}

// patternMatchesNumber reports whether a string pattern admits decimal
// integers, so that NixVirt-style integer values (`bus: 0`) are accepted.
func patternMatchesNumber(p string) bool {
	re, err := regexp.Compile("^(?:" + p + ")$")
	if err != nil {
		return false
	}
	if re.MatchString("z") || re.MatchString("Z") {
		// Text that may be digits (a title, a name): not a number.
		return false
	}
	return re.MatchString("0") || re.MatchString("1") || re.MatchString("10")
}

// numeric reports whether the values are numbers, possibly also written
// as strings (libvirt's unsignedLong is a pattern of digits).
func (v *valueType) numeric() bool {
	if v.anyString || len(v.enums) > 0 || v.path {
		return false
	}
	for _, p := range v.patterns {
		if !patternMatchesNumber(p) {
			return false
		}
	}
	return len(v.ints) > 0 || len(v.patterns) > 0
}

// patternInt is the integer alternative of numeric patterns: within the
// bounds of their data types, and non-negative unless a pattern admits a
// minus sign.
func patternInt(patterns []string, bounds []intRange) string {
	negative := false
	for _, p := range patterns {
		re, err := regexp.Compile("^(?:" + p + ")$")
		negative = negative || (err == nil && re.MatchString("-1"))
	}
	if len(bounds) == 0 {
		bounds = []intRange{{}}
	}
	if !negative {
		clipped := make([]intRange, len(bounds))
		for i, r := range bounds {
			if r.min == "" || less(r.min, "0") {
				r.min = "0"
			}
			clipped[i] = r
		}
		bounds = clipped
	}
	return intExpr(bounds)
}

func isInt(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}
