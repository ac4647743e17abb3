package gocheck

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"nixvirt.dev/nixvirt/internal/testconfig"
)

// goldenDocuments are libvirtxml's writing of every XML document of the
// testscript goldens that it reads, and of the benchmark's typical domain
// as the Go checker writes it: documents in the form plainXMLKeys reads.
func goldenDocuments(t *testing.T) map[string]string {
	docs := map[string]string{}
	one, _ := json.Marshal(testconfig.Domain(0))
	if v, ok := ParseJSON(one); ok {
		if x, ok := Document(v, KindDomain); ok {
			docs["testconfig.Domain(0)"] = x
		}
	}
	goldens, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "script", "*.txtar"))
	for _, g := range goldens {
		data, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		name := ""
		var body []byte
		flush := func() {
			if strings.HasSuffix(name, ".xml") {
				if x, ok := throughLibvirtxml(body); ok {
					docs[filepath.Base(g)+"/"+name] = x
				}
			}
		}
		for _, line := range bytes.SplitAfter(data, []byte("\n")) {
			l := strings.TrimSpace(string(line))
			if strings.HasPrefix(l, "-- ") && strings.HasSuffix(l, " --") {
				flush()
				name, body = strings.TrimSuffix(strings.TrimPrefix(l, "-- "), " --"), nil
				continue
			}
			body = append(body, line...)
		}
		flush()
	}
	return docs
}

// throughLibvirtxml is a document as libvirtxml writes it, when it reads
// it.
func throughLibvirtxml(data []byte) (string, bool) {
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := d.Token()
		if err != nil {
			return "", false
		}
		if start, ok := tok.(xml.StartElement); ok {
			k, ok := KindOfRoot(start.Name.Local)
			if !ok {
				return "", false
			}
			doc := NewDocument(k)
			if doc.Unmarshal(string(data)) != nil {
				return "", false
			}
			out, err := doc.Marshal()
			return out, err == nil
		}
	}
}

// TestPlainXMLKeys compares the hand reading of libvirtxml's output with
// encoding/xml's on every document of goldenDocuments, and checks that it
// declines what it does not read.
func TestPlainXMLKeys(t *testing.T) {
	read := 0
	for name, x := range goldenDocuments(t) {
		got, ok := plainXMLKeys(x)
		if !ok {
			continue
		}
		read++
		want, err := decodedXMLKeys(x)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: keys differ:\nby hand: %v\ndecoded: %v", name, got, want)
		}
	}
	t.Logf("%d documents read by hand", read)
	if read < 10 {
		t.Fatalf("only %d documents read by hand", read)
	}
	for _, doc := range []string{
		"<domain><metadata><x:y xmlns:x=\"u\"/></metadata></domain>",
		"<domain><name>a&#xA;</name></domain>",
		"<domain><!-- c --></domain>",
		"<domain><devices/></domain>",
		"<domain a='1'></domain>",
		"<domain><name></domain>",
		"<domain><name>x</name>",
	} {
		if _, ok := plainXMLKeys(doc); ok {
			t.Errorf("%s: read by hand", doc)
		}
	}
}
