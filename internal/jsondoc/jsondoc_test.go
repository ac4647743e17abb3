package jsondoc

import (
	"bytes"
	"testing"
)

func TestWriteKeepsMarkupAndIndents(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, map[string]any{"xml": "<a>&</a>", "n": []int{1}}); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"n\": [\n    1\n  ],\n  \"xml\": \"<a>&</a>\"\n}\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
