// Command nixvirt-front is the nixvirt that is installed as `nixvirt`:
// the smallest build, which links neither CUE nor libvirt. It runs the
// commands the Go checker answers alone, vet and export of valid JSON
// (a document with --kind, a whole-host configuration, NixVirt's settings
// file with --connect), and hands every other command line, whole, to a
// build that runs it (package handover): plan, apply, status, import
// --connect and shell completion to nixvirt-libvirt, the rest to
// nixvirt-cue (cmd/nixvirt built with -tags nolibvirt) when there is one,
// else to nixvirt-libvirt, which runs everything.
//
// Why: Go's initialisation of cue's dependencies and the pages it touches
// cost a process 25 to 35 ms before main runs, more than checking and
// writing one domain; the JSON path needs none of it (package gocheck).
//
// It also answers a plan or apply that the whole build ran last and that
// changed nothing, from the memo that run left, while nothing the run
// depended on changed (package noopmemo, which it checks over libvirt's
// RPC protocol without libvirt's library, package rpcread): what the Nix
// modules' activation of an unchanged system runs.
//
// It answers a command line itself only when it is sure to do exactly
// what the whole build would: the flags in their plain forms (--kind K
// and --kind=K), one JSON file, and the Go checker accepting it. Anything
// else, an error included, is the other build's to run and word, so the
// output, files and exit code are the whole build's by construction;
// TestFrontMatchesWholeBuild compares the two on many command lines.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"nixvirt.dev/nixvirt/compiler/gocheck"
	"nixvirt.dev/nixvirt/internal/handover"
	"nixvirt.dev/nixvirt/internal/jsondoc"
	"nixvirt.dev/nixvirt/internal/stdout"
	"nixvirt.dev/nixvirt/internal/xmlfiles"
)

func main() {
	if run(os.Args[1:]) || fromMemo(os.Args[1:]) {
		os.Exit(0)
	}
	os.Exit(handOver(os.Args[1:]))
}

// request is a command line the front may run: vet or export of one file.
type request struct {
	command                    string
	kind, out, connect, output string
	file                       string
}

// commandFlags are the flags of each command the front runs; any other
// flag hands the command line over.
var commandFlags = map[string][]string{
	"export": {"kind", "out", "connect"},
	"vet":    {"kind", "connect", "output"},
}

// parse reads a command line in the forms the front runs, or reports
// false.
func parse(args []string) (request, bool) {
	var r request
	if len(args) == 0 {
		return r, false
	}
	r.command = args[0]
	names, ok := commandFlags[r.command]
	if !ok {
		return r, false
	}
	values := map[string]*string{"kind": &r.kind, "out": &r.out, "connect": &r.connect, "output": &r.output}
	seen := map[string]bool{}
	files := 0
	for i := 1; i < len(args); i++ {
		a := args[i]
		name, ok := strings.CutPrefix(a, "--")
		if !ok {
			// "-" (stdin) and short flags (-e, -c, -h) are the other
			// builds' to read.
			if strings.HasPrefix(a, "-") {
				return r, false
			}
			r.file = a
			files++
			continue
		}
		name, value, inline := strings.Cut(name, "=")
		if !inline {
			if i+1 == len(args) {
				return r, false
			}
			i++
			value = args[i]
		}
		// A flag given twice, an empty value or one that looks like a
		// flag: what cobra makes of them is its own to say.
		if !contains(names, name) || seen[name] || value == "" || strings.HasPrefix(value, "-") {
			return r, false
		}
		seen[name] = true
		*values[name] = value
	}
	return r, files == 1
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isStdin are the arguments the other builds read as stdin.
func isStdin(a string) bool {
	return a == "-" || a == "/dev/stdin" || a == "/proc/self/fd/0" || a == "/dev/fd/0"
}

// regularFile reports whether name is a file that can be read twice: a
// named pipe (bash's <(…) too) or a device is the other build's to read,
// once, since the front would hand it over having read it when the Go
// checker is not sure of it.
func regularFile(name string) bool {
	fi, err := os.Stat(name)
	return err != nil || fi.Mode().IsRegular()
}

// run runs a command line the front is sure of and reports true, or
// reports false having written nothing.
func run(args []string) bool {
	r, ok := parse(args)
	// A stdout closed at start-up is the other build's to refuse (Go's
	// runtime has put /dev/null there; handover.Exec closes it again).
	if !ok || isStdin(r.file) || stdout.WasClosed() || !regularFile(r.file) {
		return false
	}
	switch r.command {
	case "export":
		// One of --kind and --out, and no --connect with --kind: the
		// other combinations are errors.
		if (r.kind == "") == (r.out == "") || (r.kind != "" && r.connect != "") {
			return false
		}
	case "vet":
		if (r.output != "" && r.output != "text" && r.output != "json") || (r.kind != "" && r.connect != "") {
			return false
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return false
	}
	docs, ok := compile(r, dir)
	if !ok {
		return false
	}
	switch {
	case r.command == "vet" && r.output == "json":
		res := jsondoc.Vet[struct{}]{FormatVersion: jsondoc.FormatVersion, Valid: true, Errors: []struct{}{}}
		return jsondoc.Write(os.Stdout, res) == nil
	case r.command == "vet":
		return true
	case r.kind != "":
		_, err := os.Stdout.WriteString(docs[0].XML)
		return err == nil
	}
	out := r.out
	if !filepath.IsAbs(out) {
		out = filepath.Join(dir, out)
	}
	// A failure to write is the other build's to report: it writes the
	// same files again and says what went wrong as it does.
	return xmlfiles.Write(out, docs) == nil
}

// compile is cmd/nixvirt's compileFast for JSON: the documents of the
// request, or false when the Go checker is not sure of them.
func compile(r request, dir string) ([]xmlfiles.Document, bool) {
	if r.kind != "" {
		k, err := gocheck.ParseKind(r.kind)
		if err != nil {
			return nil, false
		}
		root, ok := gocheck.ReadJSON(dir, []string{r.file}, nil, false)
		if !ok {
			return nil, false
		}
		x, ok := gocheck.Document(root, k)
		return []xmlfiles.Document{{XML: x}}, ok
	}
	// A settings file is JSON: a .cue file (or a directory, which
	// ReadJSON cannot read) given to --connect is an error of its own
	// (cmd/nixvirt's settingsFileError).
	if r.connect != "" && strings.HasSuffix(r.file, ".cue") {
		return nil, false
	}
	root, ok := gocheck.ReadJSON(dir, []string{r.file}, nil, r.connect != "")
	if !ok {
		return nil, false
	}
	cfg, ok := gocheck.ConfigOf(root, r.connect)
	if !ok {
		return nil, false
	}
	var docs []xmlfiles.Document
	for _, o := range cfg.Objects {
		if o.Compiled != "" {
			docs = append(docs, xmlfiles.Document{File: xmlfiles.ObjectFile(o.Connection, o.Kind, o.Pool, o.Name), XML: o.Compiled})
		}
	}
	return docs, true
}

// handOver runs the command line in the build that runs it, and returns
// only the exit code of a failure to.
func handOver(args []string) int {
	// The commands that connect go straight to the whole build; the rest
	// to nixvirt-cue, which starts faster, when there is one.
	order := []string{handover.CUEName, handover.LibvirtName}
	if connects(args) {
		order = []string{handover.LibvirtName, handover.CUEName}
	}
	self := handover.Self()
	if as := handover.HandedAs(); as != "" {
		// This build is never a build to hand over to: it is installed
		// under another's name.
		tags := ""
		if as == handover.CUEName {
			tags = " -tags nolibvirt"
		}
		fmt.Fprintf(os.Stderr, "nixvirt: %s is the front build of nixvirt (cmd/nixvirt-front), which runs only vet and export of valid JSON, installed as %s: build %s from ./cmd/nixvirt (go build%s -o %s ./cmd/nixvirt)\n",
			self, as, as, tags, self)
		return 1
	}
	for _, name := range order {
		path, err := handover.Find(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "nixvirt:", err)
			return 1
		}
		if path != "" {
			fmt.Fprintln(os.Stderr, "nixvirt:", handover.Exec(path, name, args))
			return 1
		}
	}
	dir := filepath.Dir(self)
	fmt.Fprintf(os.Stderr, "nixvirt: this nixvirt runs only vet and export of valid JSON itself and hands everything else to %s or %s, neither of which is beside %s nor on PATH: build them with go build -tags nolibvirt -o %s ./cmd/nixvirt and go build -o %s ./cmd/nixvirt\n",
		handover.CUEName, handover.LibvirtName, self, filepath.Join(dir, handover.CUEName), filepath.Join(dir, handover.LibvirtName))
	return 1
}

// connects reports the command lines that talk to libvirt: plan, apply,
// status, import --connect, and shell completion (which lists a host's
// objects for import --connect). A guess that misses costs only a second
// hand-over, as nixvirt-cue hands them to nixvirt-libvirt too.
func connects(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case "plan", "apply", "status", "__complete", "__completeNoDesc":
		return true
	case "import":
		for _, a := range args[1:] {
			if strings.HasPrefix(a, "--connect") || (strings.HasPrefix(a, "-c") && !strings.HasPrefix(a, "--")) {
				return true
			}
		}
	}
	return false
}
