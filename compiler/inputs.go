package compiler

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"cuelang.org/go/cue/build"
)

// Inputs are what a load read from disk, so that a caller can tell later
// whether loading again would read the same (cmd/nixvirt's compile cache):
// Files are the files read; Dirs the directories whose .cue files decide
// which files a CUE package is made of (its own and its ancestors' up to
// the module root, for each package loaded).
type Inputs struct {
	Files, Dirs []string
	// Opaque is true when the load also read files it cannot name here:
	// CUE's @embed reads files (or a glob of them) while evaluating, so
	// no list of files can stand for what such a package is made of.
	Opaque bool
}

// FileInputs are the files of a command line as absolute paths: all a
// load of JSON (loadJSON, LoadSettings, the Go checker's path) reads.
func FileInputs(dir string, args []string) Inputs {
	var files []string
	for _, a := range args {
		if !filepath.IsAbs(a) {
			a = filepath.Join(dir, a)
		}
		files = append(files, a)
	}
	return Inputs{Files: files}
}

// instanceInputs are the files of a loaded CUE instance and of every
// package it imports that are on disk (the loader's overlay holds
// nixvirt's own schemas and templates, which are part of the binary),
// with the module's cue.mod/module.cue.
func instanceInputs(inst *build.Instance, root string) Inputs {
	files := map[string]bool{}
	dirs := map[string]bool{}
	opaque := false
	seen := map[*build.Instance]bool{}
	var walk func(*build.Instance)
	walk = func(i *build.Instance) {
		if i == nil || seen[i] {
			return
		}
		seen[i] = true
		for _, f := range i.BuildFiles {
			if f.Filename == "-" {
				continue
			}
			fi, err := os.Stat(f.Filename)
			if err != nil {
				continue
			}
			if !fi.Mode().IsRegular() {
				// A pipe (Input.Streams): read once, and by the loader.
				opaque = true
				continue
			}
			files[f.Filename] = true
			// Any mention of the embed attributes counts: a wrong guess
			// only costs a compile.
			if src, err := os.ReadFile(f.Filename); err != nil || bytes.Contains(src, []byte("@embed")) || bytes.Contains(src, []byte("@extern")) {
				opaque = true
			}
			for d := filepath.Dir(f.Filename); ; d = filepath.Dir(d) {
				dirs[d] = true
				if d == root || filepath.Dir(d) == d || !within(d, root) {
					break
				}
			}
		}
		for _, imp := range i.Imports {
			walk(imp)
			// An imported package is made of the .cue files of its
			// directories in cue.mod/pkg, cue.mod/usr and cue.mod/gen
			// together: one of them gaining a file (a usr overlay
			// added) changes it, though none held a file before.
			if path := importDir(imp.ImportPath); path != "" {
				for _, under := range []string{"pkg", "usr", "gen"} {
					dirs[filepath.Join(root, "cue.mod", under, path)] = true
				}
			}
		}
	}
	walk(inst)
	if mod := filepath.Join(root, "cue.mod", "module.cue"); fileExists(mod) {
		files[mod] = true
	}
	return Inputs{Files: sortedKeys(files), Dirs: sortedKeys(dirs), Opaque: opaque}
}

// importDir is where in cue.mod's pkg, usr and gen an import path's
// package lives: the path without a package qualifier (":name") or a
// major version ("@v0"); "" for a path that cannot be one.
func importDir(importPath string) string {
	p, _, _ := strings.Cut(importPath, ":")
	p, _, _ = strings.Cut(p, "@")
	if p == "" || strings.Contains(p, "..") || filepath.IsAbs(p) {
		return ""
	}
	return filepath.FromSlash(p)
}

func within(d, root string) bool {
	rel, err := filepath.Rel(root, d)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 3 || rel[:3] != "../")
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
