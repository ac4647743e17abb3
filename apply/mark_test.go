package apply

import (
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

func TestMarkRoundTrip(t *testing.T) {
	x, err := withMark(compiler.KindDomain, "<domain type='test'><name>a</name><metadata><other xmlns='urn:x'>y</other></metadata></domain>", "abc", "o", "u")
	if err != nil {
		t.Fatal(err)
	}
	if h := markOf(compiler.KindDomain, x); h != "abc" {
		t.Fatalf("got %q", h)
	}
	x2, _ := withMark(compiler.KindDomain, x, "def", "o", "u")
	if h := markOf(compiler.KindDomain, x2); h != "def" {
		t.Fatalf("got %q", h)
	}
}

// The derived MAC and UUID must not change between releases: a VM's MAC
// would change under it, and an object without a UUID would be another
// object. The values were computed apart from this code (Python's
// hashlib: sha256 of the UUID's 16 bytes and the interface index as 4
// big-endian bytes, NixVirt's rule; for the UUID, sha256 of
// "nixvirt\0URI\0KIND\0NAME" with the version 5 and variant bits set).
func TestDerivedIdentities(t *testing.T) {
	for _, c := range []struct {
		index uint32
		want  string
	}{{0, "52:54:00:0b:82:b2"}, {1, "52:54:00:15:4b:cb"}} {
		if got := derivedMAC("c7a5fdbd-cdaf-9455-926a-d65c16db1809", c.index); got != c.want {
			t.Errorf("derivedMAC(…, %d) = %s, want %s", c.index, got, c.want)
		}
	}
	if got, want := derivedUUID("test:///default", compiler.KindDomain, "web"), "351d6355-a922-5309-a7a3-58a74d709b2d"; got != want {
		t.Errorf("derivedUUID = %s, want %s", got, want)
	}
}
