package gocheck

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Value is a JSON value as the Go checker reads it: numbers keep their
// literal, objects their key order. Package compiler makes them from CUE
// values too (CUE that evaluates to plain values).
type Value struct {
	Type  ValueType
	S     string // a string's value, a number's literal
	B     bool   // a boolean's value
	Keys  []string
	Vals  []*Value // an object's values, one per key
	Items []*Value // an array's items
}

// ValueType is the JSON type of a Value.
type ValueType uint8

// The JSON types.
const (
	NullValue ValueType = iota
	BoolValue
	NumberValue
	StringValue
	ObjectValue
	ArrayValue
)

// Get is an object's value at key, nil when it has none.
func (v *Value) Get(key string) *Value {
	for i, k := range v.Keys {
		if k == key {
			return v.Vals[i]
		}
	}
	return nil
}

// ParseJSON reads one JSON document. It is strict where CUE's JSON reader
// might differ from it (a key given twice, an escaped surrogate, invalid
// UTF-8): it then reports false and the caller lets CUE read the file.
func ParseJSON(data []byte) (*Value, bool) {
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

func (p *jparser) value(depth int) (*Value, bool) {
	if p.pos >= len(p.data) || depth > 200 {
		return nil, false
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		p.pos++
		v := &Value{Type: ObjectValue}
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
			for _, seen := range v.Keys {
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
			v.Keys, v.Vals = append(v.Keys, k), append(v.Vals, x)
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
		v := &Value{Type: ArrayValue, Items: []*Value{}}
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
			v.Items = append(v.Items, x)
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
		return &Value{Type: StringValue, S: s}, ok
	case c == 't':
		return &Value{Type: BoolValue, B: true}, p.word("true")
	case c == 'f':
		return &Value{Type: BoolValue}, p.word("false")
	case c == 'n':
		return &Value{Type: NullValue}, p.word("null")
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.pos
		for p.pos < len(p.data) && strings.IndexByte("+-0123456789.eE", p.data[p.pos]) >= 0 {
			p.pos++
		}
		lit := string(p.data[start:p.pos])
		if !json.Valid([]byte(lit)) {
			return nil, false
		}
		return &Value{Type: NumberValue, S: lit}, true
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

// DropNulls removes the fields whose value is null, at any depth, as the
// compiler's loader does for JSON (dropNullFields): null means absent. A
// null list item stays, and is refused.
func DropNulls(v *Value) {
	switch v.Type {
	case ObjectValue:
		keys, vals := v.Keys[:0], v.Vals[:0]
		for i, k := range v.Keys {
			if v.Vals[i].Type == NullValue {
				continue
			}
			DropNulls(v.Vals[i])
			keys, vals = append(keys, k), append(vals, v.Vals[i])
		}
		v.Keys, v.Vals = keys, vals
	case ArrayValue:
		for _, x := range v.Items {
			DropNulls(x)
		}
	}
}
