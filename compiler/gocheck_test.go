package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	cuejson "cuelang.org/go/encoding/json"

	"nixvirt.dev/nixvirt/compiler/gocheck"
	"nixvirt.dev/nixvirt/internal/testconfig"
)

// equivalenceDocs are the documents the Go checker is compared with the
// exact CUE schema on: every XML document of the testscript goldens and,
// when NIXVIRT_CORPUS is set, of libvirt's test corpus, imported and
// written as JSON; and the benchmark's typical domain. They are read once
// per test process: importing the whole corpus is not free, and two tests
// take them (neither changes them).
func equivalenceDocs(t *testing.T, s *Schema) map[string]jsonDoc {
	t.Helper()
	equivalence.once.Do(func() { equivalence.docs, equivalence.err = readEquivalenceDocs(s) })
	if equivalence.err != nil {
		t.Fatal(equivalence.err)
	}
	return equivalence.docs
}

var equivalence struct {
	once sync.Once
	docs map[string]jsonDoc
	err  error
}

func readEquivalenceDocs(s *Schema) (map[string]jsonDoc, error) {
	docs := map[string]jsonDoc{}
	one, _ := json.Marshal(testconfig.Domain(0))
	docs["testconfig.Domain(0)"] = jsonDoc{KindDomain, one}
	var files []string
	goldens, _ := filepath.Glob(filepath.Join("..", "testdata", "script", "*.txtar"))
	for _, g := range goldens {
		data, err := os.ReadFile(g)
		if err != nil {
			return nil, err
		}
		for name, body := range txtarFiles(data) {
			if strings.HasSuffix(name, ".xml") {
				addImported(s, docs, filepath.Base(g)+"/"+name, body)
			}
		}
	}
	if root := os.Getenv("NIXVIRT_CORPUS"); root != "" {
		for _, d := range corpusDirs {
			m, _ := filepath.Glob(filepath.Join(root, d, "*.xml"))
			files = append(files, m...)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		addImported(s, docs, f, data)
	}
	return docs, nil
}

// txtarFiles splits a txtar archive into its files (enough of the format
// for the goldens: "-- name --" lines).
func txtarFiles(data []byte) map[string][]byte {
	out := map[string][]byte{}
	name := ""
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		l := strings.TrimSpace(string(line))
		if strings.HasPrefix(l, "-- ") && strings.HasSuffix(l, " --") {
			name = strings.TrimSuffix(strings.TrimPrefix(l, "-- "), " --")
			out[name] = nil
			continue
		}
		if name != "" {
			out[name] = append(out[name], line...)
		}
	}
	return out
}

type jsonDoc struct {
	kind Kind
	data []byte
}

// addImported imports an XML document and adds it as JSON, if import
// takes it.
func addImported(s *Schema, docs map[string]jsonDoc, name string, data []byte) {
	k, x, err := s.Import(name, data)
	if err != nil {
		return
	}
	src, err := FormatCUE(x, "")
	if err != nil {
		return
	}
	v := s.Context().CompileBytes(src)
	j, err := v.MarshalJSON()
	if err != nil {
		return
	}
	docs[name] = jsonDoc{k, j}
}

// cueVerdict compiles a JSON document with the exact schema: its XML, or
// "" and the error.
func cueVerdict(s *Schema, k Kind, data []byte) (string, error) {
	x, err := cuejson.Extract("doc.json", data)
	if err != nil {
		return "", err
	}
	if !s.precise {
		dropNullFields(x)
	}
	v := s.Context().BuildExpr(x)
	u, err := s.Check(v, k)
	if err != nil {
		return "", err
	}
	return s.Export(u, k)
}

// compareVerdicts fails unless the Go checker and the exact schema agree
// on a document: both refuse it, or both accept it with the same XML.
func compareVerdicts(t reporter, exact *Schema, k Kind, name string, data []byte) bool {
	t.Helper()
	want, cerr := cueVerdict(exact, k, data)
	var got string
	ok := false
	if root, parsed := gocheck.ParseJSON(data); parsed {
		got, ok = gocheck.Document(root, k)
	}
	switch {
	case cerr == nil && !ok:
		t.Errorf("%s: the schema accepts it, the Go checker does not:\n%s", name, data)
	case cerr != nil && ok:
		t.Errorf("%s: the Go checker accepts it, the schema does not (%v):\n%s", name, cerr, data)
	case ok && got != want:
		t.Errorf("%s: the XML differs:\nGo:\n%s\nCUE:\n%s", name, got, want)
	default:
		return true
	}
	return false
}

// TestGoCheckerMatchesSchema compares the Go checker with the exact CUE
// schema on every document of equivalenceDocs and on mutations of each:
// a wrong enumeration value, a value of the wrong type, an unknown field,
// a field left out (required or not), an out-of-range number, a null.
// Two mutations a document keep the test within CI's time (FuzzGoChecker
// mutates further for a bounded time).
func TestGoCheckerMatchesSchema(t *testing.T) {
	docs := equivalenceDocs(t, mustSchema(t))
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	// The mutations are drawn first, in the documents' order, so that
	// they are the same whichever worker checks them.
	type mutant struct {
		name string
		data []byte
	}
	rng := rand.New(rand.NewSource(1))
	mutants := make([][]mutant, len(names))
	for i, name := range names {
		for j := 0; j < 2; j++ {
			if m, what := mutate(rng, docs[name].data); m != nil {
				mutants[i] = append(mutants[i], mutant{fmt.Sprintf("%s (%s)", name, what), m})
			}
		}
	}
	// A document the two disagree on has its mutations left out.
	compared := make([]int, len(names))
	inWorkers(t, len(names), func(w *testWorker, i int, f *failures) {
		k, data := docs[names[i]].kind, docs[names[i]].data
		if !compareVerdicts(f, w.exact, k, names[i], data) {
			return
		}
		for _, m := range mutants[i] {
			compareVerdicts(f, w.exact, k, m.name, m.data)
		}
		compared[i] = len(mutants[i])
	})
	checked, mutated := len(names), 0
	for _, n := range compared {
		mutated += n
	}
	t.Logf("%d documents and %d mutations compared", checked, mutated)
	if checked < 10 {
		t.Fatalf("only %d documents to compare", checked)
	}
}

// mutate changes one random place of a JSON document.
func mutate(rng *rand.Rand, data []byte) ([]byte, string) {
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return nil, ""
	}
	// Every value, with a function that replaces it.
	var boxes []func(any)
	var values []any
	var collect func(v any, set func(any))
	collect = func(v any, set func(any)) {
		boxes, values = append(boxes, set), append(values, v)
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				k := k
				collect(x[k], func(n any) { x[k] = n })
			}
		case []any:
			for i := range x {
				i := i
				collect(x[i], func(n any) { x[i] = n })
			}
		}
	}
	collect(doc, func(n any) { doc = n })
	i := rng.Intn(len(values))
	v, set := values[i], boxes[i]
	var what string
	switch x := v.(type) {
	case string:
		switch rng.Intn(4) {
		case 3:
			set(nil)
			what = "null for a string"
		case 0:
			set("no-such-value")
			what = "wrong enumeration value"
		case 1:
			set(12345)
			what = "number for a string"
		default:
			set(map[string]any{"x": 1})
			what = "struct for a string"
		}
	case float64:
		switch rng.Intn(3) {
		case 0:
			set(-1)
			what = "negative number"
		case 1:
			set(json.Number("184467440737095516160"))
			what = "number out of range"
		default:
			set("12x")
			what = "string for a number"
		}
	case bool:
		set("maybe")
		what = "string for a bool"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) > 0 && rng.Intn(2) == 0 {
			k := keys[rng.Intn(len(keys))]
			delete(x, k)
			what = "field " + k + " left out"
		} else {
			x["noSuchField"] = 1
			what = "unknown field"
		}
	case []any:
		set(append(x, true))
		what = "true in a list"
	default:
		return nil, ""
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, ""
	}
	return out, what
}

// FuzzGoChecker compares the Go checker with the exact schema on
// arbitrary JSON documents of each kind (seeded with the typical domain).
func FuzzGoChecker(f *testing.F) {
	one, _ := json.Marshal(testconfig.Domain(0))
	f.Add(one, uint8(0))
	f.Add([]byte(`{"name":"n","forward":{"mode":"nat"},"ip":{"address":"10.0.0.1","netmask":"255.255.255.0"}}`), uint8(1))
	f.Add([]byte(`{"type":"dir","name":"p","target":{"path":"/x"}}`), uint8(2))
	f.Add([]byte(`{"name":"v","capacity":{"count":1,"unit":"G"}}`), uint8(3))
	s, err := LoadSchema()
	if err != nil {
		f.Fatal(err)
	}
	exact, err := s.Precise()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		if !json.Valid(data) {
			return
		}
		k := Kinds[int(kind)%len(Kinds)]
		compareVerdicts(t, exact, k, "fuzz", data)
	})
}
