package gocheck

// PatternWords says in words what one of the schema's regular
// expressions matches ("an IP address"), as the expression is written in
// the schema; false for an expression the grammar gives no words
// (patternwords_gen.go, which `go generate` writes from the grammar's
// names of its types).
func PatternWords(re string) (string, bool) {
	w, ok := patternWords[re]
	return w, ok
}
