// Command schemagen writes schemas/*_gen.cue from libvirt's RelaxNG
// grammars. It is run by `go generate ./schemas`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"nixvirt.dev/nixvirt/internal/schemagen"
)

func main() {
	rngDir := flag.String("rng", "/usr/share/libvirt/schemas", "directory of libvirt's RelaxNG grammars")
	out := flag.String("out", ".", "directory to write the generated CUE files to")
	flag.Parse()
	// The directory libvirt-rng.sh prepares names the version.
	from := "libvirt"
	if v, ok := strings.CutPrefix(filepath.Base(filepath.Clean(*rngDir)), "libvirt-rng-"); ok {
		from = "libvirt " + v
	}
	for _, k := range schemagen.Kinds {
		src, err := schemagen.Generate(*rngDir, from, k)
		if err != nil {
			fmt.Fprintln(os.Stderr, "schemagen:", err)
			os.Exit(1)
		}
		name := strings.ToLower(strings.TrimPrefix(k.Def, "#")) + "_gen.cue"
		if err := os.WriteFile(filepath.Join(*out, name), src, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "schemagen:", err)
			os.Exit(1)
		}
	}
}
