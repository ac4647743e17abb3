package apply

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/diff"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/reported"
	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// normalize removes what libvirt fills in itself and nixvirt's own mark,
// so that a live definition reads like what a user writes; for a
// comparison (values), values are also written as libvirt reads them
// (sizes in bytes, numbers in decimal, paths cleaned).
func normalize(k compiler.Kind, root *xmldoc.Element, values bool) {
	reported.RemoveRuntime(root)
	reported.RemoveAssigned(root)
	if md := root.Child("metadata"); md != nil {
		kept := md.Children[:0]
		for _, c := range md.Children {
			if c.Space != markNS {
				kept = append(kept, c)
			}
		}
		md.Children = kept
		if len(kept) == 0 && strings.TrimSpace(md.Text) == "" {
			root.RemoveChildren("metadata")
		}
	}
	trimText(root)
	if values {
		canonicalValues(k, root, "")
	}
}

// trimText drops the spaces around text: libvirt indents what it writes.
func trimText(e *xmldoc.Element) {
	e.Text = strings.TrimSpace(e.Text)
	for _, c := range e.Children {
		trimText(c)
	}
}

// canonicalValues rewrites the values of e (at parent/e) as libvirt reads
// them, so that the same value written another way compares equal. The
// contents of <metadata> belong to other programs and are left as written.
func canonicalValues(k compiler.Kind, e *xmldoc.Element, parent string) {
	if e.Name == "metadata" {
		return
	}
	scaleToBytes(k, e)
	for i, a := range e.Attrs {
		if n, ok := parseInt(a.Value); ok {
			e.Attrs[i].Value = n
		}
		if a.Name.Local == "path" && (k == compiler.KindPool || k == compiler.KindVolume) {
			e.Attrs[i].Value = cleanPath(a.Value)
		}
	}
	switch {
	case e.Name == "path" && (k == compiler.KindPool || k == compiler.KindVolume):
		e.Text = cleanPath(e.Text)
	case e.Name == "mode" && parent == "permissions":
		// libvirt reads a file mode in octal, with or without a leading 0.
		if m, err := strconv.ParseUint(e.Text, 8, 32); err == nil {
			e.Text = "0" + strconv.FormatUint(m, 8)
		}
	}
	for _, c := range e.Children {
		canonicalValues(k, c, e.Name)
	}
}

// cleanPath writes a file path as libvirt keeps a pool's or volume's:
// without repeated or trailing slashes. "." and ".." stay: libvirt keeps
// them too.
func cleanPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return p
	}
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	return p
}

// integerRE is an integer as C's strtol reads it with base 0 (which
// libvirt uses for attributes such as a PCI address or controller port):
// hexadecimal with 0x, octal with a leading 0, else decimal.
var integerRE = regexp.MustCompile(`^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$`)

// parseInt writes an attribute that is an integer in hex or octal in
// decimal; ok is false for anything else, which stays as written.
func parseInt(s string) (string, bool) {
	if len(s) < 2 || s[0] != '0' || !integerRE.MatchString(s) {
		return "", false
	}
	n, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatUint(n, 10), true
}

// contains reports whether every attribute, text and element of want is
// in have: libvirt may add to a definition (defaults, addresses) but an
// unchanged definition loses nothing the user wrote.
func contains(have, want *xmldoc.Element) bool {
	if have.Name != want.Name || (want.Text != "" && want.Text != have.Text) {
		return false
	}
	for _, wa := range want.Attrs {
		if !slices.Contains(have.Attrs, wa) {
			return false
		}
	}
	used := make([]bool, len(have.Children))
	for _, wc := range want.Children {
		found := false
		for i, hc := range have.Children {
			if !used[i] && contains(hc, wc) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// readable is a definition as shown in plans: normalized and indented.
func readable(k compiler.Kind, doc string) string {
	t, err := xmldoc.Parse([]byte(doc))
	if err != nil {
		return doc
	}
	normalize(k, t, false)
	return t.Render()
}

// comparable parses a live and a wanted definition and normalizes both
// for comparison; ok is false when either is not XML.
func comparable(k compiler.Kind, liveXML, wantXML string) (live, want *xmldoc.Element, ok bool) {
	live, err1 := xmldoc.Parse([]byte(liveXML))
	want, err2 := xmldoc.Parse([]byte(wantXML))
	if err1 != nil || err2 != nil {
		return nil, nil, false
	}
	normalize(k, live, true)
	normalize(k, want, true)
	return live, want, true
}

// sameDefinition compares a wanted definition with a live one that nixvirt
// has no hash for (an object it does not own yet, or a pool): libvirt may
// have added to it, but nothing the definition says differs.
func sameDefinition(k compiler.Kind, liveXML, wantXML string) bool {
	live, want, ok := comparable(k, liveXML, wantXML)
	return ok && contains(live, want)
}

// equivalent reports whether two definitions contain each other: they
// differ only in how they are written (units, number bases, order), not
// in what libvirt would do with them.
func equivalent(k compiler.Kind, aXML, bXML string) bool {
	a, b, ok := comparable(k, aXML, bXML)
	return ok && contains(a, b) && contains(b, a)
}

// unifiedDiff is a line diff of a and b in unified format, or "" when
// they are equal.
func unifiedDiff(aName, bName, a, b string) string {
	d := diff.Diff(aName, []byte(a), bName, []byte(b))
	if d == nil {
		return ""
	}
	// The first line ("diff a b") repeats the names of the next two.
	_, rest, _ := strings.Cut(string(d), "\n")
	return rest
}

// unitBytes are libvirt's size units.
var unitBytes = map[string]uint64{
	"b": 1, "bytes": 1,
	"KB": 1e3, "k": 1 << 10, "K": 1 << 10, "KiB": 1 << 10,
	"MB": 1e6, "m": 1 << 20, "M": 1 << 20, "MiB": 1 << 20,
	"GB": 1e9, "g": 1 << 30, "G": 1 << 30, "GiB": 1 << 30,
	"TB": 1e12, "t": 1 << 40, "T": 1 << 40, "TiB": 1 << 40,
	"PB": 1e15, "p": 1 << 50, "P": 1 << 50, "PiB": 1 << 50,
	"EB": 1e18, "e": 1 << 60, "E": 1 << 60, "EiB": 1 << 60,
}

// defaultUnit is the unit libvirt reads a size in when it has none: KiB
// for a domain's memory, bytes for storage.
func defaultUnit(k compiler.Kind, name string) string {
	switch {
	case k == compiler.KindDomain && (name == "memory" || name == "currentMemory" || name == "maxMemory"):
		return "KiB"
	case (k == compiler.KindPool || k == compiler.KindVolume) && (name == "capacity" || name == "allocation" || name == "available" || name == "physical"):
		return "bytes"
	}
	return ""
}

// scaleToBytes writes a size as bytes without a unit, so that 4 GiB and
// 4194304 KiB compare equal.
func scaleToBytes(k compiler.Kind, e *xmldoc.Element) {
	if e.Text == "" || len(e.Children) > 0 {
		return
	}
	unit, ok := e.Attr("unit")
	if !ok {
		unit = defaultUnit(k, e.Name)
	}
	mult, known := unitBytes[unit]
	if !known {
		return
	}
	v, err := strconv.ParseUint(e.Text, 10, 64)
	if err != nil || (mult > 1 && v > (1<<64-1)/mult) {
		return
	}
	e.Text = strconv.FormatUint(v*mult, 10)
	e.RemoveAttrs("unit")
}
