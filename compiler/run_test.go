package compiler

import (
	"errors"
	"strings"
	"testing"

	"cuelang.org/go/cue"
)

// TestRun: the fast schema first; on failure, the exact one decides, both
// for what only it accepts (a null written in CUE) and for the message of a
// real mistake.
func TestRun(t *testing.T) {
	check := func(src string, calls *[]string) func(s *Schema) error {
		return func(s *Schema) error {
			*calls = append(*calls, variant(s))
			u, err := s.Check(s.Context().CompileString(src, cue.Filename("doc.cue")), KindDomain)
			if err != nil {
				return err
			}
			_, err = s.Export(u, KindDomain)
			return err
		}
	}
	const doc = "type: \"test\", name: \"web\", os: type: \"hvm\"\n"
	for _, tc := range []struct {
		name, src string
		calls     string
		err       string // a substring of the printed error; "" for success
	}{
		{"fast succeeds", doc, "fast", ""},
		{"null written in CUE", doc + "os: loader: null\n", "fast exact", ""},
		{"real mistake", doc + "vcpu: {placement: \"static\", count: \"two\"}\n", "fast exact", "vcpu.count: \"two\" is a string, where an int belongs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls []string
			err := Run(check(tc.src, &calls))
			if got := strings.Join(calls, " "); got != tc.calls {
				t.Errorf("ran %q, want %q", got, tc.calls)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("error: %s", printed(err))
			case tc.err != "" && (err == nil || !strings.Contains(printed(err), tc.err)):
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
	// The exact schema's error is the one returned, not the fast one's.
	var calls []string
	err := Run(func(s *Schema) error {
		calls = append(calls, variant(s))
		return errors.New(variant(s))
	})
	if err == nil || err.Error() != "exact" || len(calls) != 2 {
		t.Errorf("Run returned %v after %v", err, calls)
	}
}
