package xmldoc

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	doc := `<domain xmlns:app="https://example.org/app" type="kvm">
  <name>web</name>
  <metadata><app:x a="1">text</app:x></metadata>
</domain>`
	root, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := root.Attr("type"); v != "kvm" || len(root.Attrs) != 1 {
		t.Errorf("attributes (namespace declarations left out): %+v", root.Attrs)
	}
	if n := root.Child("name"); n == nil || n.Text != "web" || n.Line != 2 {
		t.Errorf("<name>: %+v", n)
	}
	md := root.Child("metadata")
	if got := md.Inner(); got != `<app:x a="1">text</app:x>` {
		t.Errorf("inner XML of <metadata>: %q", got)
	}
	if md.Children[0].Space != "https://example.org/app" {
		t.Errorf("namespace: %q", md.Children[0].Space)
	}
	root.RemoveChildren("metadata")
	if got, want := root.Render(), "<domain type=\"kvm\">\n  <name>web</name>\n</domain>\n"; got != want {
		t.Errorf("render:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := map[string]string{
		"":                                 "no XML document",
		"<a/><b/>":                         "line 1: a second root element <b>",
		"<a>\n<b></a>":                     "line 2: element <b> closed by </a>",
		"<a>" + nest(MaxDepth):             "line 1: elements nested deeper than 256",
		"<a>" + many(MaxElements) + "</a>": "line 1: more than 200000 elements",
	}
	for doc, want := range tests {
		_, err := Parse([]byte(doc))
		var de *Error
		if !errors.As(err, &de) || err.Error() != want {
			t.Errorf("Parse(%.20q…): %v, want %s", doc, err, want)
		}
	}
}

func nest(n int) string { return strings.Repeat("<x>", n) + strings.Repeat("</x>", n) }
func many(n int) string { return strings.Repeat("<x/>", n) }

// A deeply nested document is refused early and does not cost memory in
// proportion to its depth times its size: each element's inner XML was
// once copied (140 KB nested 20,000 deep took 1.4 GB).
func TestDeepDocumentIsCheap(t *testing.T) {
	doc := []byte(nest(20_000))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse(doc)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("Parse: %v", err)
	}
	if used := after.TotalAlloc - before.TotalAlloc; used > 10<<20 {
		t.Errorf("parsing used %d bytes", used)
	}
	// At the limit, the tree still costs no copy of inner XML.
	doc = []byte(nest(MaxDepth - 1))
	runtime.ReadMemStats(&before)
	if _, err := Parse(doc); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if used := after.TotalAlloc - before.TotalAlloc; used > 1<<20 {
		t.Errorf("parsing %d bytes used %d bytes", len(doc), used)
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.xml")
	if err := os.WriteFile(ok, []byte("<a/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(ok); err != nil || string(data) != "<a/>" {
		t.Fatalf("ReadFile: %q %v", data, err)
	}
	big := filepath.Join(dir, "big.xml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"/dev/zero": "not a regular file but a character device",
		fifo:        "not a regular file but a FIFO",
		dir:         "not a regular file but a directory",
		big:         "10485761 bytes, more than the 10485760 an XML document may have",
	}
	for path, want := range tests {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || err.Error() != want {
				t.Errorf("ReadFile(%s): %v, want %s", path, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadFile(%s) hangs", path)
		}
	}
}

func TestReadAll(t *testing.T) {
	if _, err := ReadAll(strings.NewReader(strings.Repeat(" ", MaxFileSize+1))); err == nil {
		t.Error("a stream larger than MaxFileSize is read")
	}
	if data, err := ReadAll(strings.NewReader("<a/>")); err != nil || string(data) != "<a/>" {
		t.Errorf("ReadAll: %q %v", data, err)
	}
}
