package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"cuelang.org/go/cue"
)

// TestNixVirtNames reads NixVirt's XML generator (vendored, unchanged, in
// testdata/nixvirt/generate-xml) and checks that every attribute and element
// name it reads is a field of nixvirt's schema at the same place, written
// the same way: an attribute as that attribute, an element as that element,
// NixVirt's name for an element's text as the text. A NixVirt release that
// reads a new name fails here until the schema accepts it.
func TestNixVirtNames(t *testing.T) {
	s := mustSchema(t)
	exact, err := s.Precise()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "testdata", "nixvirt", "generate-xml")
	seen := map[string]bool{}
	for _, k := range Kinds {
		file := map[Kind]string{KindDomain: "domain.nix", KindNetwork: "network.nix", KindPool: "pool.nix", KindVolume: "volume.nix"}[k]
		if file == "" {
			// NixVirt has no secrets.
			continue
		}
		root, err := readNixGenerator(dir, file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		c := &nameCheck{schema: exact, file: file}
		c.fields(root.children, exact.Def(k.Definition()), k.Definition(), k.Definition())
		for _, m := range c.missing {
			if !libvirtHasNot[m.path] {
				t.Errorf("%s:%d: %s: %s", file, m.line, m.path, m.msg)
			}
			seen[m.path] = true
		}
	}
	for p := range libvirtHasNot {
		if !seen[p] {
			t.Errorf("%s is listed as a name libvirt lacks, but the schema has it now or NixVirt reads it no more: remove it from libvirtHasNot", p)
		}
	}
}

// libvirtHasNot are names NixVirt's generator reads where libvirt's
// grammar (libvirt 11.3) and libvirtxml have no such attribute or element,
// so NixVirt's XML with them is refused or dropped by libvirt; nixvirt's
// schema refuses them at the user's line instead. Most come from helpers
// NixVirt shares between devices (one <target>, one <address> with every
// attribute any device has).
var libvirtHasNot = map[string]bool{
	// <secret type> is a disk's; a pool's <auth><secret> has uuid and usage.
	"#Pool.source.auth.secret.type": true,
	// Capabilities libvirt does not know.
	"#Domain.features.capabilities.audit_read":         true,
	"#Domain.features.capabilities.bpf":                true,
	"#Domain.features.capabilities.checkpoint_restore": true,
	"#Domain.features.capabilities.perfmon":            true,
	// <devices> has no attributes.
	"#Domain.devices.type": true,
	// NixVirt's one <target> for disks, controllers, interfaces and
	// character devices.
	"#Domain.devices.disk.target.type":         true,
	"#Domain.devices.disk.target.name":         true,
	"#Domain.devices.disk.target.chassis":      true,
	"#Domain.devices.disk.target.port":         true,
	"#Domain.devices.disk.target.model":        true,
	"#Domain.devices.controller.target.type":   true,
	"#Domain.devices.controller.target.name":   true,
	"#Domain.devices.controller.target.dev":    true,
	"#Domain.devices.controller.target.bus":    true,
	"#Domain.devices.controller.target.model":  true,
	"#Domain.devices.interface.target.type":    true,
	"#Domain.devices.interface.target.name":    true,
	"#Domain.devices.interface.target.chassis": true,
	"#Domain.devices.interface.target.port":    true,
	"#Domain.devices.interface.target.bus":     true,
	"#Domain.devices.interface.target.model":   true,
	"#Domain.devices.serial.target.name":       true,
	"#Domain.devices.serial.target.chassis":    true,
	"#Domain.devices.serial.target.dev":        true,
	"#Domain.devices.serial.target.bus":        true,
	"#Domain.devices.console.target.name":      true,
	"#Domain.devices.console.target.chassis":   true,
	"#Domain.devices.console.target.dev":       true,
	"#Domain.devices.console.target.bus":       true,
	"#Domain.devices.channel.target.chassis":   true,
	"#Domain.devices.channel.target.dev":       true,
	"#Domain.devices.channel.target.bus":       true,
	"#Domain.devices.channel.target.model":     true,
	// NixVirt's one <address> inside a hostdev's or an interface's
	// <source>, where libvirt's has only the PCI (or USB) attributes.
	"#Domain.devices.hostdev.source.address.type":         true,
	"#Domain.devices.hostdev.source.address.controller":   true,
	"#Domain.devices.interface.source.address.controller": true,
	"#Domain.devices.interface.source.address.target":     true,
	"#Domain.devices.interface.source.address.unit":       true,
	"#Domain.devices.interface.source.address.port":       true,
	// A filesystem's <driver> has no cache or discard (a disk's has).
	"#Domain.devices.filesystem.driver.cache":   true,
	"#Domain.devices.filesystem.driver.discard": true,
}

// nixField is one name NixVirt's generator reads from an attrset.
type nixField struct {
	name string
	// kind: "attr" (subattr), "elem" (subelem), "text" (sub NAME TYPE),
	// "raw" (subelemraw), "inline" (elem: its fields are the parent's).
	kind     string
	xmlName  string // the element an inline or `sub NAME (elem …)` writes
	scalar   bool   // an element whose content is the value itself
	children []*nixField
	line     int
}

type nameCheck struct {
	schema  *Schema
	file    string
	missing []nameProblem
}

// nameProblem is a name NixVirt reads that the schema lacks or writes
// otherwise.
type nameProblem struct {
	path, msg string
	line      int
}

// fields checks NixVirt's fields of one attrset against the schema struct
// sch; child is the lifted element (os/type) they belong to, if any.
func (c *nameCheck) fields(nf []*nixField, sch cue.Value, key, path string) {
	c.fieldsIn(nf, sch, key, path, "")
}

func (c *nameCheck) fieldsIn(nf []*nixField, sch cue.Value, key, path, child string) {
	l, err := c.schema.layoutOf(sch, key)
	if err != nil {
		c.missing = append(c.missing, nameProblem{path: path, msg: err.Error()})
		return
	}
	for _, n := range nf {
		if n.kind == "inline" {
			// elem "type" in os: its attributes and text are os's fields,
			// written on <type>.
			c.fieldsIn(n.children, sch, key, path, n.xmlName)
			continue
		}
		where := path + "." + n.name
		problem := func(format string, args ...any) {
			c.missing = append(c.missing, nameProblem{path: where, line: n.line, msg: fmt.Sprintf(format, args...)})
		}
		f := l.find(func(f *fieldInfo) bool { return f.name == n.name })
		if f == nil {
			problem("no such field")
			continue
		}
		local := n.xmlName
		if local == "" {
			local = n.name
		}
		if i := strings.IndexByte(local, ':'); i >= 0 {
			local = local[i+1:] // dnsmasq:option is <option> in dnsmasq's namespace
		}
		spec := f.spec
		switch n.kind {
		case "attr", "text":
			if spec.Kind != n.kind || f.xmlName() != local && n.kind == "attr" || spec.Child != child {
				problem("NixVirt's %s is nixvirt's @xml(%s) <%s> (child %q)", n.kind, spec.Kind, f.xmlName(), spec.Child)
			}
		case "raw":
			if spec.Kind != "raw" {
				problem("NixVirt's raw XML is nixvirt's @xml(%s)", spec.Kind)
			}
		case "elem":
			isElem := spec.Kind == "elem" || spec.Kind == "empty" || spec.OrElem
			if !isElem || f.xmlName() != local {
				problem("NixVirt's element <%s> is nixvirt's @xml(%s) <%s>", local, spec.Kind, f.xmlName())
				continue
			}
			if n.scalar || len(n.children) == 0 {
				continue
			}
			if spec.Kind == "empty" {
				problem("NixVirt gives <%s> content; nixvirt's is empty", local)
				continue
			}
			c.fields(n.children, f.elem, spec.Def, path+"."+n.name)
		}
	}
}

// readNixGenerator evaluates the `process` binding of one of NixVirt's
// generate-xml files far enough to list the names it reads. It knows the
// combinators of generate.nix (subattr, subelem, sub, elem, subelemraw,
// attr, type*), let bindings, `with`, `import` of a sibling file, list
// concatenation, and leaves lambdas (such as the dnsmasq namespace attribute)
// alone.
func readNixGenerator(dir, file string) (*nixField, error) {
	p, err := parseNixFile(dir, file)
	if err != nil {
		return nil, err
	}
	top := p.root
	// let … process = …; in obj: …
	if top.kind != "let" {
		return nil, fmt.Errorf("expected a let expression at the top")
	}
	ev := &nixEval{dir: dir, active: map[*nixExpr]int{}}
	env := ev.bind(top, nil)
	v, err := ev.eval(env.lookup("process"), env)
	if err != nil {
		return nil, err
	}
	f, ok := v.(*nixField)
	if !ok || f.kind != "inline" {
		return nil, fmt.Errorf("process is not an elem (%T)", v)
	}
	return f, nil
}

// nixExpr is the syntax tree of the part of Nix these files use.
type nixExpr struct {
	kind  string // let, with, lambda, apply, list, concat, str, ident, path, op
	str   string
	args  []*nixExpr // apply: function then arguments; list: items; concat/op: operands
	binds map[string]*nixExpr
	body  *nixExpr
	line  int
}

type nixParser struct {
	toks []nixTok
	i    int
	root *nixExpr
}

type nixTok struct {
	s    string
	str  bool
	line int
}

func parseNixFile(dir, file string) (*nixParser, error) {
	src, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	p := &nixParser{toks: nixTokens(string(src))}
	e, err := p.expr()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	p.root = e
	return p, nil
}

func nixTokens(src string) []nixTok {
	var out []nixTok
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '"':
			j := i + 1
			var b strings.Builder
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				b.WriteByte(src[j])
				j++
			}
			out = append(out, nixTok{s: b.String(), str: true, line: line})
			i = j + 1
		case strings.HasPrefix(src[i:], "++") || strings.HasPrefix(src[i:], "&&") || strings.HasPrefix(src[i:], "!=") || strings.HasPrefix(src[i:], "=="):
			out = append(out, nixTok{s: src[i : i+2], line: line})
			i += 2
		case strings.ContainsRune("()[]{};=:,", rune(c)):
			out = append(out, nixTok{s: string(c), line: line})
			i++
		default:
			j := i
			for j < len(src) && (unicode.IsLetter(rune(src[j])) || unicode.IsDigit(rune(src[j])) || strings.ContainsRune("_-'./!", rune(src[j]))) {
				j++
			}
			if j == i {
				j++
			}
			out = append(out, nixTok{s: src[i:j], line: line})
			i = j
		}
	}
	return out
}

func (p *nixParser) peek() nixTok {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return nixTok{s: "<eof>"}
}

func (p *nixParser) next() nixTok { t := p.peek(); p.i++; return t }

func (p *nixParser) want(s string) error {
	if t := p.next(); t.s != s || t.str {
		return fmt.Errorf("line %d: want %q, found %q", t.line, s, t.s)
	}
	return nil
}

func (p *nixParser) expr() (*nixExpr, error) {
	t := p.peek()
	switch {
	case t.s == "let" && !t.str:
		p.next()
		e := &nixExpr{kind: "let", binds: map[string]*nixExpr{}, line: t.line}
		for p.peek().s != "in" || p.peek().str {
			name := p.next()
			if err := p.want("="); err != nil {
				return nil, err
			}
			v, err := p.expr()
			if err != nil {
				return nil, err
			}
			if err := p.want(";"); err != nil {
				return nil, err
			}
			e.binds[name.s] = v
		}
		p.next()
		body, err := p.expr()
		e.body = body
		return e, err
	case t.s == "with" && !t.str:
		p.next()
		if _, err := p.expr(); err != nil {
			return nil, err
		}
		if err := p.want(";"); err != nil {
			return nil, err
		}
		body, err := p.expr()
		return &nixExpr{kind: "with", body: body, line: t.line}, err
	case !t.str && p.i+1 < len(p.toks) && p.toks[p.i+1].s == ":" && isNixIdent(t.s):
		p.next()
		p.next()
		body, err := p.expr()
		return &nixExpr{kind: "lambda", str: t.s, body: body, line: t.line}, err
	}
	return p.binop()
}

func isNixIdent(s string) bool {
	return s != "" && (unicode.IsLetter(rune(s[0])) || s[0] == '_')
}

func (p *nixParser) binop() (*nixExpr, error) {
	x, err := p.apply()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.str || (t.s != "++" && t.s != "&&" && t.s != "!=" && t.s != "==") {
			return x, nil
		}
		p.next()
		y, err := p.apply()
		if err != nil {
			return nil, err
		}
		kind := "op"
		if t.s == "++" {
			kind = "concat"
		}
		x = &nixExpr{kind: kind, str: t.s, args: []*nixExpr{x, y}, line: t.line}
	}
}

func (p *nixParser) apply() (*nixExpr, error) {
	f, err := p.atom()
	if err != nil {
		return nil, err
	}
	args := []*nixExpr{f}
	for p.startsAtom() {
		a, err := p.atom()
		if err != nil {
			return nil, err
		}
		args = append(args, a)
	}
	if len(args) == 1 {
		return f, nil
	}
	return &nixExpr{kind: "apply", args: args, line: f.line}, nil
}

func (p *nixParser) startsAtom() bool {
	t := p.peek()
	if t.str {
		return true
	}
	switch t.s {
	case "(", "[", "{":
		return true
	case "<eof>", ")", "]", "}", ";", "=", ":", ",", "++", "&&", "!=", "==", "in", "let", "with", "then", "else":
		return false
	}
	return true
}

func (p *nixParser) atom() (*nixExpr, error) {
	t := p.next()
	switch {
	case t.str:
		return &nixExpr{kind: "str", str: t.s, line: t.line}, nil
	case t.s == "(":
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		return e, p.want(")")
	case t.s == "[":
		l := &nixExpr{kind: "list", line: t.line}
		for p.peek().s != "]" || p.peek().str {
			a, err := p.atom()
			if err != nil {
				return nil, err
			}
			l.args = append(l.args, a)
		}
		p.next()
		return l, nil
	case strings.HasPrefix(t.s, "./"):
		return &nixExpr{kind: "path", str: t.s, line: t.line}, nil
	}
	return &nixExpr{kind: "ident", str: t.s, line: t.line}, nil
}

// nixEnv is a chain of let scopes.
type nixEnv struct {
	binds  map[string]*nixExpr
	parent *nixEnv
}

func (e *nixEnv) lookup(name string) *nixExpr {
	for ; e != nil; e = e.parent {
		if x, ok := e.binds[name]; ok {
			return x
		}
	}
	return nil
}

type nixEval struct {
	dir    string
	active map[*nixExpr]int // bindings being evaluated
}

func (ev *nixEval) bind(let *nixExpr, env *nixEnv) *nixEnv {
	return &nixEnv{binds: let.binds, parent: env}
}

// Values: *nixField, []any (a list), nixType (typeString…), string,
// nixFunc (a combinator waiting for arguments), nil (anything else).
type nixType string

type nixFunc struct {
	name string
	args []any
	line int
}

var nixArity = map[string]int{"subattr": 2, "attr": 2, "subelem": 3, "sub": 2, "elem": 3, "subelemraw": 2, "typeConstant": 1}

func (ev *nixEval) eval(x *nixExpr, env *nixEnv) (any, error) {
	if x == nil {
		return nil, nil
	}
	switch x.kind {
	case "let":
		return ev.eval(x.body, ev.bind(x, env))
	case "with":
		return ev.eval(x.body, env)
	case "lambda", "op":
		return nil, nil
	case "str":
		return x.str, nil
	case "list":
		var out []any
		for _, a := range x.args {
			v, err := ev.eval(a, env)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "concat":
		a, err := ev.eval(x.args[0], env)
		if err != nil {
			return nil, err
		}
		b, err := ev.eval(x.args[1], env)
		if err != nil {
			return nil, err
		}
		la, _ := a.([]any)
		lb, _ := b.([]any)
		return append(append([]any{}, la...), lb...), nil
	case "ident":
		if b := env.lookup(x.str); b != nil {
			// A binding may refer to itself (a disk's backingStore holds
			// the same source and backingStore): one level of it is
			// enough to read every name.
			if ev.active[b] > 1 {
				return nil, nil
			}
			ev.active[b]++
			defer func() { ev.active[b]-- }()
			return ev.eval(b, env)
		}
		if strings.HasPrefix(x.str, "type") {
			return nixType(x.str), nil
		}
		if _, ok := nixArity[x.str]; ok {
			return nixFunc{name: x.str, line: x.line}, nil
		}
		return nil, nil
	case "apply":
		head := x.args[0]
		if head.kind == "ident" && head.str == "import" {
			return ev.importFile(x.args[1].str)
		}
		f, err := ev.eval(head, env)
		if err != nil {
			return nil, err
		}
		fn, ok := f.(nixFunc)
		if !ok {
			return nil, nil
		}
		for _, a := range x.args[1:] {
			if len(fn.args) == nixArity[fn.name] {
				// More arguments than the combinator takes (NixVirt's
				// video <source> is given its model's children too): the
				// result is applied to them, which reads no names.
				break
			}
			v, err := ev.eval(a, env)
			if err != nil {
				return nil, err
			}
			fn.args = append(fn.args, v)
		}
		fn.line = x.line
		if len(fn.args) < nixArity[fn.name] {
			return fn, nil
		}
		return ev.combine(fn)
	}
	return nil, fmt.Errorf("line %d: cannot evaluate %s", x.line, x.kind)
}

func (ev *nixEval) importFile(path string) (any, error) {
	p, err := parseNixFile(ev.dir, strings.TrimPrefix(path, "./"))
	if err != nil {
		return nil, err
	}
	if p.root.kind == "let" {
		env := ev.bind(p.root, nil)
		return ev.eval(p.root.body, env)
	}
	return ev.eval(p.root, nil)
}

// combine applies a combinator of generate.nix to all its arguments.
func (ev *nixEval) combine(fn nixFunc) (any, error) {
	name, _ := fn.args[0].(string)
	switch fn.name {
	case "typeConstant", "attr":
		return nil, nil // a constant (xmlns): reads no name
	case "subattr":
		return &nixField{name: name, kind: "attr", line: fn.line}, nil
	case "subelemraw":
		return &nixField{name: name, kind: "raw", line: fn.line}, nil
	case "sub":
		switch c := fn.args[1].(type) {
		case nixType:
			return &nixField{name: name, kind: "text", line: fn.line}, nil
		case *nixField:
			// sub "qemu-commandline" (elem "commandline" …): the field is
			// that element.
			return &nixField{name: name, kind: "elem", xmlName: c.xmlName, children: c.children, line: fn.line}, nil
		}
		return nil, fmt.Errorf("line %d: sub %q of %T", fn.line, name, fn.args[1])
	case "subelem", "elem":
		f := &nixField{name: name, kind: "elem", line: fn.line}
		if fn.name == "elem" {
			f.kind, f.xmlName = "inline", name
		}
		attrs, _ := fn.args[1].([]any)
		f.children = fieldsOf(attrs)
		switch c := fn.args[2].(type) {
		case nixType:
			f.scalar = true
		case []any:
			f.children = append(f.children, fieldsOf(c)...)
		case *nixField:
			f.children = append(f.children, c)
		}
		return f, nil
	}
	return nil, fmt.Errorf("line %d: unknown combinator %s", fn.line, fn.name)
}

func fieldsOf(vs []any) []*nixField {
	var out []*nixField
	for _, v := range vs {
		if f, ok := v.(*nixField); ok {
			out = append(out, f)
		}
	}
	return out
}
