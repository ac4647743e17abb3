package apply

import "testing"

// TestCanonicalUUID: UUIDs compare in lower case with dashes, however
// they were written; anything else is left as it is.
func TestCanonicalUUID(t *testing.T) {
	for in, want := range map[string]string{
		"7E2E0000-0000-4000-8000-0000000000C1": "7e2e0000-0000-4000-8000-0000000000c1",
		"7e2e00000000400080000000000000c1":     "7e2e0000-0000-4000-8000-0000000000c1",
		"7E2E00000000400080000000000000C1":     "7e2e0000-0000-4000-8000-0000000000c1",
		"7e2e00000000400080000000000000g1":     "7e2e00000000400080000000000000g1",
		"7e2e00000000400080000000000000c":      "7e2e00000000400080000000000000c",
	} {
		if got := canonicalUUID(in); got != want {
			t.Errorf("canonicalUUID(%q) = %q, want %q", in, got, want)
		}
	}
}
