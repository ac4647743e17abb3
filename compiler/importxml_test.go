package compiler

import (
	"strings"
	"testing"
)

// Hostile input is refused with the file and line, before it costs time
// or memory: documents nested too deep, definition paths that are not
// regular files.
func TestImportRefusesHostileInput(t *testing.T) {
	deep := "<domain>\n" + strings.Repeat("<x>", 20_000) + strings.Repeat("</x>", 20_000) + "</domain>"
	_, _, err := mustSchema(t).Import("deep.xml", []byte(deep))
	if err == nil || err.Error() != "deep.xml:2: not XML: elements nested deeper than 256" {
		t.Errorf("deep document: %v", err)
	}
	_, err = ReadXMLFile("/dev/zero", "./zero.xml")
	if err == nil || err.Error() != "./zero.xml: not a regular file but a character device" {
		t.Errorf("/dev/zero: %v", err)
	}
	_, err = ReadXMLFile("/nonexistent/vm.xml", "vm.xml")
	if err == nil || err.Error() != "vm.xml: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
}

// A text-only element written as a struct of one field (NixVirt's
// iothreads: count: 2) is typed as that field takes it, so the imported
// CUE passes the schema that refuses numbers as strings.
func TestImportTypesWrappedText(t *testing.T) {
	s := mustSchema(t)
	_, x, err := s.Import("io.xml", []byte(`<domain type="kvm"><name>a</name><memory unit="KiB">1024</memory><iothreads>2</iothreads><os><type>hvm</type></os></domain>`))
	if err != nil {
		t.Fatal(err)
	}
	src, err := FormatCUE(x, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), "iothreads: count: 2\n") {
		t.Errorf("imported:\n%s", src)
	}
}
