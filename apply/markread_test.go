package apply

import (
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/compiler"
)

// readMarkSlow is how readMark reads a mark that readMarkFast declines:
// at each mention of the namespace in turn, the element a regular
// expression finds, decoded by encoding/xml.
func readMarkSlow(liveXML string) mark {
	for from := 0; ; {
		i := strings.Index(liveXML[from:], markNS)
		if i < 0 {
			return mark{}
		}
		i += from
		if m, ok := readMarkAt(liveXML, i); ok {
			return m
		}
		from = i + len(markNS)
	}
}

// TestReadMarkPastForeignManaged: an element of another namespace, named
// managed and mentioning nixvirt's namespace in an attribute, before the
// mark does not hide it (the object would be nobody's: never pruned, and
// taken over by any configuration naming it).
func TestReadMarkPastForeignManaged(t *testing.T) {
	x := `<domain type="kvm"><name>x</name><metadata><foo:managed xmlns:foo="urn:other" ref="` + markNS + `"/>` +
		`<nixvirt:managed xmlns:nixvirt="` + markNS + `" owner="team-b" hash="h">x</nixvirt:managed></metadata></domain>`
	if m := readMark(compiler.KindDomain, x); m.Owner != "team-b" || m.Hash != "h" {
		t.Errorf("mark %+v, want team-b's", m)
	}
}

// markSeeds are marks as libvirt writes them and as it might: quoting,
// entities, prefixes, other attributes and namespaces, and malformed ones.
func markSeeds(t testing.TB) []string {
	def := `<domain type="test"><name>web &amp; co</name><uuid>7e2e0000-0000-4000-8000-0000000000c1</uuid><description>"it's"</description></domain>`
	marked, err := withMark(compiler.KindDomain, def, "abc123", "lab", "7e2e0000-0000-4000-8000-0000000000c1")
	if err != nil {
		t.Fatal(err)
	}
	wrap := func(mark string) string {
		return `<domain type="kvm"><name>x</name><metadata><app:i xmlns:app="urn:a"/>` + mark + `</metadata></domain>`
	}
	ns := `"` + markNS + `"`
	seeds := []string{marked, `<domain><metadata><foo:managed xmlns:foo="urn:other" ref="` + markNS + `"/><nixvirt:managed xmlns:nixvirt="` + markNS + `" hash="h">x</nixvirt:managed></metadata></domain>`}
	for _, m := range []string{
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` owner="o" uuid="u" hash="h">&lt;domain/&gt;</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt='` + markNS + `' hash='h'>a&apos;b&quot;c</nixvirt:managed>`,
		`<managed xmlns=` + ns + ` hash="h" owner="a&amp;b">x</managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h"/>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h" />`,
		`<nixvirt:managed hash="h" xmlns:nixvirt=` + ns + `>x</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">&#60;domain/&#x3e;</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">a` + "\r\n" + `b</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">caf` + "\u00e9" + `</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">a<b/>c</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">a]]>b</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">a&nbsp;b</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">a&amp b</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">x</other:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">x</nixvirt:managed >`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">x</managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h">x`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` xmlns:nixvirt=` + ns + ` hash="h">x</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h" hash="i">x</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` nixvirt:hash="h">x</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` xmlns:o="urn:o" o:hash="h" hash="i">x</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash = "h">x</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash=h>x</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` bare hash="h">x=y</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="h` + "\n" + `">x</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt=` + ns + ` hash="a<b">x</nixvirt:managed>`,
		`<nixvirt:managed xmlns:nixvirt="urn:other" hash="h">x</nixvirt:managed>`,
		`<other:managed xmlns:other=` + ns + ` hash="h">x</other:managed>`,
		`<a:b:managed xmlns:a:b=` + ns + ` hash="h">x</a:b:managed>`,
		`<nixvirt:managedx xmlns:nixvirt=` + ns + ` hash="h">x</nixvirt:managedx>`,
		`<managed-x xmlns=` + ns + ` hash="h">x</managed>`,
		`<managed hash="h">` + markNS + `</managed>`,
		`<x:y xmlns:x=` + ns + `><x:managed hash="h">x</x:managed></x:y>`,
	} {
		seeds = append(seeds, wrap(m))
	}
	// The namespace named in text before the mark.
	seeds = append(seeds, strings.Replace(marked, "<name>", "<description>"+markNS+"</description><name>", 1))
	return seeds
}

// FuzzReadMark: readMark reads every definition as encoding/xml reads
// the element the regular expression finds, whether readMarkFast or the
// slow way answers; and readMarkFast answers for what libvirt writes.
func FuzzReadMark(f *testing.F) {
	for _, s := range markSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, x string) {
		if got, want := readMark(compiler.KindDomain, x), readMarkSlow(x); got != want {
			t.Errorf("readMark(%q)\n= %+v\nwant %+v", x, got, want)
		}
	})
}

// TestReadMarkFastAnswers: the mark nixvirt gives a definition, as
// libvirt gives it back, is read without encoding/xml (the shortcut is in
// use), and read as nixvirt wrote it.
func TestReadMarkFastAnswers(t *testing.T) {
	th := newTestHost(t)
	th.applyOf("team-a", webOnly, false)
	x := th.live(compiler.KindDomain, "web").XML
	m, ok := readMarkFast(x, strings.Index(x, markNS))
	if !ok {
		t.Fatalf("the mark libvirt gives back is declined: %s", x)
	}
	if m.Owner != "team-a" || m.UUID != "c7a5fdbd-cdaf-9455-926a-d65c16db1809" || m != readMarkSlow(x) {
		t.Fatalf("mark %+v, want %+v", m, readMarkSlow(x))
	}
	if !strings.Contains(m.Definition, "<name>web</name>") {
		t.Fatalf("definition: %s", m.Definition)
	}
}
