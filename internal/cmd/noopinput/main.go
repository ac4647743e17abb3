// Command noopinput writes the inputs of internal/bench/noop.sh: n typical
// domains (internal/testconfig, of type qemu so that hosts without KVM
// define them) named PREFIX-x-NNN for nixvirt, in three forms of one
// connection's configuration, and another n named PREFIX-n-NNN for
// NixVirt's module helper:
//
//	settings.json   NixVirt's settings file as the Nix modules write it:
//	                each definition an XML file (xml/NAME.xml)
//	inline.json     the same settings with each definition inline (JSON)
//	host.cue        the same domains as a CUE #Config
//	nixvirt-settings.json, nixvirt-xml/  NixVirt's helper's own domains
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/testconfig"
)

func main() {
	n := flag.Int("n", 100, "number of domains")
	dir := flag.String("dir", ".", "where to write the files")
	prefix := flag.String("prefix", "nvxbench", "name prefix of the domains")
	uri := flag.String("uri", "qemu:///system", "the connection of host.cue")
	flag.Parse()
	if err := write(*dir, *prefix, *uri, *n); err != nil {
		fmt.Fprintln(os.Stderr, "noopinput:", err)
		os.Exit(1)
	}
}

// domain is the i-th typical domain of set (x: nixvirt's, n: NixVirt's).
func domain(prefix, set string, i int) map[string]any {
	d := testconfig.Domain(i)
	d["type"] = "qemu"
	d["name"] = fmt.Sprintf("%s-%s-%03d", prefix, set, i)
	// Distinct per prefix and set, so that two sets never share a UUID.
	tag := 0
	for _, c := range prefix + set {
		tag = (tag*31 + int(c)) % 0xffff
	}
	d["uuid"] = fmt.Sprintf("7e3c0c2a-%04x-4b1e-9d5a-%012d", tag, i)
	return d
}

func write(dir, prefix, uri string, n int) error {
	var inline, fromXML, helper []any
	var cueSrc strings.Builder
	fmt.Fprintf(&cueSrc, "connections: %q: domains: {\n", uri)
	for _, sub := range []string{"xml", "nixvirt-xml"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return err
		}
	}
	for i := 0; i < n; i++ {
		for _, set := range []string{"x", "n"} {
			d := domain(prefix, set, i)
			name := d["name"].(string)
			doc, err := json.Marshal(d)
			if err != nil {
				return err
			}
			sub, rel := "xml", "xml/"+name+".xml"
			if set == "n" {
				sub, rel = "nixvirt-xml", "nixvirt-xml/"+name+".xml"
			}
			if err := writeXML(dir, filepath.Join(sub, name+".xml"), doc); err != nil {
				return err
			}
			abs, err := filepath.Abs(filepath.Join(dir, rel))
			if err != nil {
				return err
			}
			if set == "n" {
				helper = append(helper, map[string]any{"definition": abs})
				continue
			}
			fromXML = append(fromXML, map[string]any{"definition": abs})
			inline = append(inline, map[string]any{"definition": d})
			body, err := json.Marshal(withoutName(d))
			if err != nil {
				return err
			}
			fmt.Fprintf(&cueSrc, "%q: definition: %s\n", name, body)
		}
	}
	cueSrc.WriteString("}\n")
	files := map[string]any{
		"settings.json":         map[string]any{"domains": fromXML},
		"inline.json":           map[string]any{"domains": inline},
		"nixvirt-settings.json": map[string]any{"domains": helper},
	}
	for name, v := range files {
		data, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "host.cue"), []byte(cueSrc.String()), 0o644)
}

// writeXML compiles one JSON definition to libvirt XML, as the Nix
// modules do at build time (nixvirt export).
func writeXML(dir, name string, doc []byte) error {
	tmp := filepath.Join(dir, "doc.json")
	if err := os.WriteFile(tmp, doc, 0o644); err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp) }() // a scratch file in the output directory
	out, ok := compiler.FastDocument(compiler.Input{Dir: dir, Args: []string{"doc.json"}}, compiler.KindDomain)
	if !ok {
		return fmt.Errorf("%s: the definition does not compile", name)
	}
	return os.WriteFile(filepath.Join(dir, name), []byte(out), 0o644)
}

// withoutName is a definition as a CUE entry gives it: named by its key.
func withoutName(d map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range d {
		if k != "name" {
			out[k] = v
		}
	}
	return out
}
