package compiler

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// jval is a JSON value as the Go checker reads it: numbers keep their
// literal, objects their key order.
type jval struct {
	kind  jkind
	s     string // a string's value, a number's literal
	b     bool
	keys  []string
	vals  []*jval
	items []*jval
}

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jObject
	jArray
)

func (v *jval) get(key string) *jval {
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

// parseJSON reads one JSON document. It is strict where CUE's JSON reader
// might differ from it (a key given twice, an escaped surrogate, invalid
// UTF-8): it then reports false and the caller lets CUE read the file.
func parseJSON(data []byte) (*jval, bool) {
	p := &jparser{data: data}
	p.space()
	v, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.space()
	return v, p.pos == len(p.data)
}

type jparser struct {
	data []byte
	pos  int
}

func (p *jparser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) value(depth int) (*jval, bool) {
	if p.pos >= len(p.data) || depth > 200 {
		return nil, false
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		p.pos++
		v := &jval{kind: jObject}
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			return v, true
		}
		for {
			p.space()
			k, ok := p.str()
			if !ok {
				return nil, false
			}
			for _, seen := range v.keys {
				if seen == k {
					return nil, false
				}
			}
			p.space()
			if p.pos >= len(p.data) || p.data[p.pos] != ':' {
				return nil, false
			}
			p.pos++
			p.space()
			x, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			v.keys, v.vals = append(v.keys, k), append(v.vals, x)
			p.space()
			if p.pos >= len(p.data) {
				return nil, false
			}
			if p.data[p.pos] == '}' {
				p.pos++
				return v, true
			}
			if p.data[p.pos] != ',' {
				return nil, false
			}
			p.pos++
		}
	case c == '[':
		p.pos++
		v := &jval{kind: jArray, items: []*jval{}}
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			return v, true
		}
		for {
			p.space()
			x, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			v.items = append(v.items, x)
			p.space()
			if p.pos >= len(p.data) {
				return nil, false
			}
			if p.data[p.pos] == ']' {
				p.pos++
				return v, true
			}
			if p.data[p.pos] != ',' {
				return nil, false
			}
			p.pos++
		}
	case c == '"':
		s, ok := p.str()
		return &jval{kind: jString, s: s}, ok
	case c == 't':
		return &jval{kind: jBool, b: true}, p.word("true")
	case c == 'f':
		return &jval{kind: jBool}, p.word("false")
	case c == 'n':
		return &jval{kind: jNull}, p.word("null")
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		for p.pos < len(p.data) && strings.IndexByte("+-0123456789.eE", p.data[p.pos]) >= 0 {
			p.pos++
		}
		lit := string(p.data[start:p.pos])
		if !json.Valid([]byte(lit)) {
			return nil, false
		}
		return &jval{kind: jNumber, s: lit}, true
	}
	return nil, false
}

func (p *jparser) word(w string) bool {
	if !strings.HasPrefix(string(p.data[p.pos:min(len(p.data), p.pos+len(w))]), w) {
		return false
	}
	p.pos += len(w)
	return true
}

// str reads a string; one with escapes is decoded by encoding/json, except
// escaped surrogates, which the caller leaves to CUE.
func (p *jparser) str() (string, bool) {
	if p.pos >= len(p.data) || p.data[p.pos] != '"' {
		return "", false
	}
	start := p.pos
	p.pos++
	escaped := false
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			raw := p.data[start+1 : p.pos]
			p.pos++
			if !utf8.Valid(raw) {
				return "", false
			}
			if !escaped {
				return string(raw), true
			}
			if strings.Contains(strings.ToLower(string(raw)), `\ud`) {
				return "", false
			}
			var s string
			if json.Unmarshal(p.data[start:p.pos], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			escaped = true
			p.pos += 2
			continue
		case c < 0x20:
			return "", false
		}
		p.pos++
	}
	return "", false
}

// dropNulls removes the fields whose value is null, at any depth, as the
// compiler's loader does for JSON (dropNullFields): null means absent. A
// null list item stays, and is refused.
func dropNulls(v *jval) {
	switch v.kind {
	case jObject:
		keys, vals := v.keys[:0], v.vals[:0]
		for i, k := range v.keys {
			if v.vals[i].kind == jNull {
				continue
			}
			dropNulls(v.vals[i])
			keys, vals = append(keys, k), append(vals, v.vals[i])
		}
		v.keys, v.vals = keys, vals
	case jArray:
		for _, x := range v.items {
			dropNulls(x)
		}
	}
}
