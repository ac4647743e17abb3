package apply

import (
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// TestReadMarkFromText: the mark is found in a definition as libvirt
// writes it, among other metadata and after text that names nixvirt's
// namespace, and nothing is found where there is no mark.
func TestReadMarkFromText(t *testing.T) {
	def := `<domain type="test"><name>web</name><uuid>7e2e0000-0000-4000-8000-0000000000c1</uuid><memory unit="MiB">64</memory><os><type>hvm</type></os></domain>`
	marked, err := withMark(compiler.KindDomain, def, "abc123", "lab", "7e2e0000-0000-4000-8000-0000000000c1")
	if err != nil {
		t.Fatal(err)
	}
	m := readMark(compiler.KindDomain, marked)
	if m.Hash != "abc123" || m.Owner != "lab" || m.UUID != "7e2e0000-0000-4000-8000-0000000000c1" || m.Definition != def {
		t.Fatalf("mark of withMark: %+v", m)
	}
	// Text naming the namespace before the mark, and another
	// application's metadata around it.
	busy := strings.Replace(marked, "<name>web</name>", "<name>web</name><description>see "+markNS+" &lt;managed&gt;</description>", 1)
	busy = strings.Replace(busy, "<metadata>", `<metadata><app:info xmlns:app="https://example.com/app"><app:x>1</app:x></app:info>`, 1)
	if got := readMark(compiler.KindDomain, busy); got != m {
		t.Errorf("mark among other text: %+v, want %+v", got, m)
	}
	for name, x := range map[string]string{
		"no metadata":        def,
		"namespace in text":  strings.Replace(def, "<name>web</name>", "<name>web</name><description>"+markNS+"</description>", 1),
		"other metadata":     strings.Replace(def, "</os>", `</os><metadata><app:info xmlns:app="https://example.com/app"/></metadata>`, 1),
		"pool (no metadata)": marked,
	} {
		k := compiler.KindDomain
		if name == "pool (no metadata)" {
			k = compiler.KindPool
		}
		if got := readMark(k, x); got.Hash != "" {
			t.Errorf("%s: found a mark %+v", name, got)
		}
	}
}
