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
	t.Log(x)
	if h := markOf(compiler.KindDomain, x); h != "abc" {
		t.Fatalf("got %q", h)
	}
	x2, _ := withMark(compiler.KindDomain, x, "def", "o", "u")
	t.Log(x2)
	if h := markOf(compiler.KindDomain, x2); h != "def" {
		t.Fatalf("got %q", h)
	}
	t.Log(derivedMAC("c7a5fdbd-cdaf-9455-926a-d65c16db1809", 0), derivedUUID("test:///default", "domain", "web"))
}
