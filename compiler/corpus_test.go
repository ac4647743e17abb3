package compiler

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"cuelang.org/go/cue"

	"nixvirt.dev/nixvirt/internal/xmldoc"
)

// corpusDirs are the directories of libvirt's test suite that hold
// domain, network, pool and volume documents.
var corpusDirs = []string{
	"tests/qemuxml2argvdata", "tests/genericxml2xmlindata", "tests/domainschemadata",
	"tests/lxcxml2xmldata", "tests/networkxml2xmlin", "tests/storagepoolxml2xmlin",
	"tests/storagevolxml2xmlin",
}

// corpusDocuments is how many documents of each kind Debian 12's libvirt
// 9.0 test suite has that virt-xml-validate accepts (passed and excepted
// together): the corpus test fails when it finds fewer.
var corpusDocuments = map[Kind]int{KindDomain: 1132, KindNetwork: 46, KindPool: 39, KindVolume: 26}

// TestCorpusRoundTrip runs every document of libvirt's own test suite
// that libvirt's virt-xml-validate accepts through import, vet and export,
// and checks that libvirtxml reads the result as the same value as the
// original. NIXVIRT_CORPUS is the unpacked corpus (testdata/corpus/fetch.sh;
// test.sh sets it). A document that cannot round trip must be listed in
// testdata/corpus/exceptions.txt with the reason.
func TestCorpusRoundTrip(t *testing.T) {
	root := os.Getenv("NIXVIRT_CORPUS")
	if root == "" {
		t.Skip("NIXVIRT_CORPUS is not set (test.sh sets it from testdata/corpus/fetch.sh)")
	}
	exceptions := readExceptions(t, filepath.Join("..", "testdata", "corpus", "exceptions.txt"))
	var files []string
	for _, d := range corpusDirs {
		m, _ := filepath.Glob(filepath.Join(root, d, "*.xml"))
		files = append(files, m...)
	}
	sort.Strings(files)
	type result struct{ file, kind, outcome string }
	results := make([]result, len(files))
	bySchema := map[string][]string{}
	for i, f := range files {
		rel, _ := filepath.Rel(root, f)
		results[i] = result{file: rel}
		data, err := os.ReadFile(f)
		if err != nil {
			results[i].outcome = "unreadable"
			continue
		}
		k, ok := rootKind(data)
		if !ok {
			results[i].outcome = "not a document"
			continue
		}
		results[i].kind = string(k)
		schema := map[Kind]string{KindDomain: "domain", KindNetwork: "network", KindPool: "storagepool", KindVolume: "storagevol"}[k]
		bySchema[schema] = append(bySchema[schema], f)
	}
	valid := map[string]bool{}
	for _, schema := range slices.Sorted(maps.Keys(bySchema)) {
		maps.Copy(valid, validateWithLibvirt(t, schema, bySchema[schema]))
	}
	for i, f := range files {
		switch {
		case results[i].outcome != "":
		case !valid[f]:
			results[i].outcome = "rejected by virt-xml-validate"
		default:
			results[i].outcome = "candidate"
		}
	}
	s := mustSchema(t)
	counts := map[string]int{}
	var failures []string
	candidates := map[string]bool{}
	for i := range results {
		r := &results[i]
		candidates[r.file] = r.outcome == "candidate"
		if r.outcome != "candidate" {
			counts[r.outcome]++
			continue
		}
		data, _ := os.ReadFile(filepath.Join(root, r.file))
		err := roundTrip(s, r.file, data)
		reason, excepted := exceptions[r.file]
		switch {
		case err == nil && excepted:
			counts["passed"]++
			counts[r.kind+" passed"]++
			t.Errorf("%s passes now: remove it from exceptions.txt (%s)", r.file, reason)
		case err == nil:
			counts["passed"]++
			counts[r.kind+" passed"]++
		case excepted:
			counts["excepted"]++
			counts[r.kind+" excepted"]++
		default:
			counts["failed"]++
			failures = append(failures, fmt.Sprintf("%s\t%v", r.file, strings.ReplaceAll(err.Error(), "\n", " | ")))
		}
	}
	// An exception for a document that is not there is stale too.
	for _, file := range slices.Sorted(maps.Keys(exceptions)) {
		if !candidates[file] {
			t.Errorf("%s is in exceptions.txt but is not a document of the corpus that virt-xml-validate accepts: remove it", file)
		}
	}
	// A corpus that shrinks (a broken glob, a changed layout, a validator
	// that rejects everything) would pass while checking nothing.
	for _, k := range slices.Sorted(maps.Keys(corpusDocuments)) {
		if n, least := counts[string(k)+" passed"]+counts[string(k)+" excepted"], corpusDocuments[k]; n < least {
			t.Errorf("the corpus has %d %s documents that virt-xml-validate accepts, expected at least %d", n, k, least)
		}
	}
	var keys []string
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("%-32s %d", k, counts[k])
	}
	if len(failures) > 0 {
		os.WriteFile(filepath.Join(os.TempDir(), "nixvirt-corpus-failures.txt"), []byte(strings.Join(failures, "\n")+"\n"), 0o644)
		for i, f := range failures {
			if i == 40 {
				t.Errorf("… and %d more (all in %s)", len(failures)-40, filepath.Join(os.TempDir(), "nixvirt-corpus-failures.txt"))
				break
			}
			t.Errorf("%s", f)
		}
	}
}

// libvirtSchemas is where libvirt's virt-xml-validate finds its grammars.
const libvirtSchemas = "/usr/share/libvirt/schemas"

// validateWithLibvirt reports which of files libvirt's grammar schema (a
// name virt-xml-validate takes: domain, network, …) accepts. It runs what
// virt-xml-validate runs for a document whose kind it is given (xmllint
// --noout --relaxng SCHEMA.rng FILE), but on a hundred files a process:
// one process a document, each compiling the grammar again, was most of
// this test's time. xmllint says "FILE validates" of each file it
// accepts; nothing else counts as accepted.
func validateWithLibvirt(t *testing.T, schema string, files []string) map[string]bool {
	t.Helper()
	rng := filepath.Join(libvirtSchemas, schema+".rng")
	if _, err := os.Stat(rng); err != nil {
		t.Fatalf("libvirt's grammar: %v", err)
	}
	valid := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for chunk := range slices.Chunk(files, 100) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// It exits non-zero when any file fails: what counts is
			// what it says of each.
			out, err := exec.Command("xmllint", append([]string{"--noout", "--relaxng", rng}, chunk...)...).CombinedOutput()
			if _, failed := err.(*exec.ExitError); err != nil && !failed {
				t.Errorf("xmllint: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, line := range strings.Split(string(out), "\n") {
				if f, ok := strings.CutSuffix(line, " validates"); ok && slices.Contains(chunk, f) {
					valid[f] = true
				}
			}
		}()
	}
	wg.Wait()
	return valid
}

func rootKind(data []byte) (Kind, bool) {
	e, err := xmldoc.Parse(data)
	if err != nil {
		return "", false
	}
	return KindOfRoot(e.Name)
}

// roundTrip imports a document, checks and exports the result, and
// compares what libvirtxml reads from both.
func roundTrip(s *Schema, name string, data []byte) error {
	k, x, err := s.Import(name, data)
	if err != nil {
		return fmt.Errorf("import: %v", err)
	}
	src, err := FormatCUE(x, "")
	if err != nil {
		return fmt.Errorf("format: %v", err)
	}
	var out string
	err = Run(func(s *Schema) error {
		v := s.Context().CompileBytes(src, cue.Filename(name+".cue"))
		if v.Err() != nil {
			return v.Err()
		}
		u, err := s.Check(v, k)
		if err != nil {
			return err
		}
		out, err = s.Export(u, k)
		return err
	})
	if err != nil {
		return fmt.Errorf("vet/export: %v", err)
	}
	want, err1 := Canonical(k, string(data))
	got, err2 := Canonical(k, out)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("libvirtxml: %v %v", err1, err2)
	}
	if want != got {
		return fmt.Errorf("differs after the round trip:\n%s", firstDifference(want, got))
	}
	return nil
}

func firstDifference(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: %q became %q", i+1, strings.TrimSpace(x), strings.TrimSpace(y))
		}
	}
	return ""
}

func readExceptions(t *testing.T, path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return out
		}
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		file, reason, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("%s: %q: want FILE<TAB>REASON", path, line)
		}
		out[file] = reason
	}
	return out
}
