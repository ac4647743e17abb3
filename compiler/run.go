package compiler

// Run calls f with the fast schema. If f fails, it calls f again with the
// exact schema and returns that error, whose messages name the field that
// is wrong where the fast variant can only say that a value matched none
// of its forms. f must not write anything before it has succeeded: it may
// run twice.
func Run(f func(s *Schema) error) error {
	s, err := LoadSchema()
	if err != nil {
		return err
	}
	err = f(s)
	if err == nil {
		return nil
	}
	exact, perr := s.Precise()
	if perr != nil {
		return perr
	}
	if err2 := f(exact); err2 != nil {
		return err2
	}
	return err
}
