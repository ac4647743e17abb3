// Command benchinput writes the inputs of internal/bench/compare.sh: n
// typical domains (internal/testconfig) as a whole-host configuration in
// JSON (host.json), the first of them as a single document (one.json), and
// their definitions as a JSON list for NixVirt's generator (nixvirt.json),
// and the configuration in CUE: written out (host.cue), with a template of
// the user's (template.cue), with each definition unified with nixvirt's
// schema (schema-each/host.cue), as one schemas.#Config (schema-config/
// host.cue), and built from nixvirt's Linux template (templates/host.cue).
// The last three import nixvirt's packages, each its own package directory.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"nixvirt.dev/nixvirt/internal/testconfig"
)

func main() {
	n := flag.Int("n", 100, "number of domains")
	dir := flag.String("dir", ".", "where to write the files")
	flag.Parse()
	one, _ := json.MarshalIndent(testconfig.Domain(0), "", " ")
	files := map[string][]byte{
		"host.json":    testconfig.DomainsJSON(*n),
		"nixvirt.json": testconfig.DefinitionsJSON(*n),
		"one.json":     append(one, '\n'),
		"host.cue":     []byte(testconfig.Domains(*n)),
		"template.cue": []byte(testconfig.DomainsTemplate(*n)),
	}
	for name, data := range map[string]string{
		"schema-each":   testconfig.DomainsSchemaEach(*n),
		"schema-config": testconfig.DomainsSchemaConfig(*n),
		"templates":     testconfig.DomainsNixvirtTemplate(*n),
	} {
		if err := os.MkdirAll(filepath.Join(*dir, name), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "benchinput:", err)
			os.Exit(1)
		}
		files[filepath.Join(name, "host.cue")] = []byte(data)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "benchinput:", err)
			os.Exit(1)
		}
	}
}
