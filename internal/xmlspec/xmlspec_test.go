package xmlspec

import (
	"os"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

// A spec written by the generator reads back the same in the compiler.
func TestRoundTrip(t *testing.T) {
	ctx := cuecontext.New()
	for _, s := range []Spec{
		{Kind: Attr},
		{Kind: Attr, Style: "onoff", Child: "type"},
		{Kind: Attr, Style: "yesno", OrElem: true, Def: "#Domain_os_firmware"},
		{Kind: Text, Style: "yesno"},
		{Kind: Elem, Def: "#Domain_commandline_arg", NS: "http://libvirt.org/schemas/domain/qemu/1.0", Name: "arg", Alias: "qemu-arg"},
		{Kind: Empty},
		{Kind: Raw},
	} {
		v := ctx.CompileString("x: _ " + s.Attribute())
		a := v.LookupPath(cue.ParsePath("x")).Attribute("xml")
		got, ok := Parse(&a)
		if !ok || got != s {
			t.Errorf("%s read back as %+v (ok %v)", s.Attribute(), got, ok)
		}
	}
	a := ctx.CompileString("x: 1").LookupPath(cue.ParsePath("x")).Attribute("xml")
	if _, ok := Parse(&a); ok {
		t.Error("a field without @xml has a spec")
	}
}

// The version the XML goes through is the one go.mod pins.
func TestLibvirtxmlVersion(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "libvirt.org/go/libvirtxml "+LibvirtxmlVersion+"\n") {
		t.Errorf("go.mod does not require libvirt.org/go/libvirtxml %s", LibvirtxmlVersion)
	}
}
