package compiler

// Run calls f with the fast schema. If f fails, it calls f again with the
// exact schema, which decides: its error, whose messages name the field
// that is wrong where the fast variant can only say that a value matched
// none of its forms, or success, for what only the exact variant accepts
// (a null written in CUE, which the fast variant leaves out). f must not
// write anything before it has succeeded: it may run twice.
func Run(f func(s *Schema) error) error {
	s, err := LoadSchema()
	if err != nil {
		return err
	}
	if err = f(s); err == nil {
		return nil
	}
	exact, err := s.Precise()
	if err != nil {
		return err
	}
	return f(exact)
}
