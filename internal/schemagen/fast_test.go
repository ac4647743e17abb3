package schemagen

import (
	"strings"
	"testing"

	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"
)

// The fast variant's rules, one field each.
func TestFastVariant(t *testing.T) {
	src := `#X: {
	list?: (#Y | null) | [...#Y] @xml(elem,def=#Y)
	one?: #Y | null @xml(elem,def=#Y)
	must!: #Y @xml(elem,def=#Y)
	empty?: #Empty | null @xml(empty)
	wrap?: {path?: string | null @xml(text)} | null @xml(elem)
	enum?: string & =~"^(?:a|b)$" | null @xml(attr)
	either?: int | string | null @xml(attr)
	cfg: #Y @fast(_)
}
`
	f, err := parser.ParseFile("x.cue", src)
	if err != nil {
		t.Fatal(err)
	}
	if err := FastVariant(f); err != nil {
		t.Fatal(err)
	}
	out, err := format.Node(f)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{
		`list?: _ @xml(elem,def=#Y)`,                   // the writer checks each item
		`one?: #Y @xml(elem,def=#Y)`,                   // null is left to the exact variant
		`must!: #Y @xml`,                               // a required definition stays
		`empty?: #Empty @xml(empty)`,                   // not a written definition: one type
		`wrap?: {path?: string @xml(text)} @xml(elem)`, // the writer needs the struct
		`enum?: string & =~"^(?:a|b)$" @xml(attr)`,     // one type stays
		`either?: matchN(>=1, [int, string])`,
		`cfg: _ @fast(_)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("fast variant lacks %q:\n%s", want, out)
		}
	}
}
