package compiler

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"cuelang.org/go/cue/cuecontext"
)

// The equivalence tests (TestGoCheckerMatchesSchema,
// TestCUEValuesMatchSchema) evaluate thousands of documents with the
// schema, most of the package's time. A Schema, like the cue.Context it
// holds, is not safe for concurrent use, so they share the documents out
// among workers, each with both variants compiled in a context of its
// own. What each document is checked against is the same as in one
// goroutine; the failures are reported in the documents' order.

// testWorker is one worker's schemas and scratch directory.
type testWorker struct {
	fast, exact *Schema
	dir         string
}

// run is Run with the worker's schemas: f with the fast variant and, if
// it fails, with the exact one, which decides.
func (w *testWorker) run(f func(s *Schema) error) error {
	if err := f(w.fast); err == nil {
		return nil
	}
	return f(w.exact)
}

// failures records what a job finds wrong, for the test to report in
// order (compareVerdicts takes it in place of a *testing.T).
type failures []string

func (f *failures) Helper() {}
func (f *failures) Errorf(format string, args ...any) {
	*f = append(*f, fmt.Sprintf(format, args...))
}

// reporter is what compareVerdicts reports to: a test, or a job's failures.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// inWorkers runs job(w, i) for i in [0, n) on as many workers as the
// process may run goroutines at once (GOMAXPROCS), and then reports the
// failures of every job in the order of i.
func inWorkers(t *testing.T, n int, job func(w *testWorker, i int, f *failures)) {
	t.Helper()
	workers := min(runtime.GOMAXPROCS(0), n)
	found := make([]failures, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		ctx := cuecontext.New()
		fast, err := compileSchema(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		exact, err := compileSchema(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		w := &testWorker{fast: fast, exact: exact, dir: t.TempDir()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				job(w, i, &found[i])
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, f := range found {
		for _, msg := range f {
			t.Error(msg)
		}
	}
}
