// Command schemagen writes schemas/*_gen.cue from libvirt's RelaxNG
// grammars, and package gocheck's table of what their patterns match in
// words. It is run by `go generate ./schemas`.
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
	wordsOut := flag.String("words", "../compiler/gocheck/patternwords_gen.go", "the Go file to write the patterns' words to")
	flag.Parse()
	// The directory libvirt-rng.sh prepares names the version.
	from := "libvirt"
	if v, ok := strings.CutPrefix(filepath.Base(filepath.Clean(*rngDir)), "libvirt-rng-"); ok {
		from = "libvirt " + v
	}
	words := map[string]string{}
	for _, k := range schemagen.Kinds {
		src, kw, err := schemagen.Generate(*rngDir, from, k)
		if err != nil {
			fail(err)
		}
		name := strings.ToLower(strings.TrimPrefix(k.Def, "#")) + "_gen.cue"
		if err := os.WriteFile(filepath.Join(*out, name), src, 0o644); err != nil {
			fail(err)
		}
		for re, w := range kw {
			words[re] = schemagen.MergeWords(words, re, w)
		}
	}
	src, err := schemagen.PatternWordsGo(words, from)
	if err == nil {
		err = os.WriteFile(*wordsOut, src, 0o644)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "schemagen:", err)
	os.Exit(1)
}
