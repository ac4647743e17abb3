// Package stdout gives nixvirt's output stream: os.Stdout, except that a
// standard output that was closed when the program started (`nixvirt
// export … >&-`) fails every write, as it would in a C program.
//
// Why it takes more than checking write errors: Go's runtime opens
// /dev/null on a standard descriptor that is closed at start-up, before
// any Go code runs, so writes to a closed stdout "succeed" and the output
// is lost without a word. Only code that runs before the runtime, a C
// constructor (closed_cgo.go), can still see the descriptor closed; a
// build without cgo cannot tell and writes to /dev/null (closed_nocgo.go).
package stdout

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// ErrClosed is the error of every write to a stdout that was closed when
// the program started.
var ErrClosed = errors.New("standard output is closed: send it to a file or a pipe (> file), or to /dev/null to discard it")

// Writer is where a command writes its results: os.Stdout, or, when
// stdout was closed at start-up, a writer whose every write fails with
// ErrClosed.
func Writer() io.Writer {
	if WasClosed() {
		return closedWriter{}
	}
	return os.Stdout
}

type closedWriter struct{}

func (closedWriter) Write([]byte) (int, error) { return 0, ErrClosed }

// WasClosed reports whether stdout was closed when the program started.
func WasClosed() bool { return wasClosed }

// Reclose closes stdout again if it was closed when the program started,
// so that a program this one execs in its place (a hand-over to another
// build) starts with it closed too, rather than with the /dev/null Go's
// runtime put there. Call it just before exec: a file opened after it
// would take descriptor 1.
func Reclose() {
	if wasClosed {
		_ = syscall.Close(1) // closed already, or closed now: either way closed
	}
}
