//go:build !nolibvirt

package main

import (
	"io"
	"os"
)

// isTTY reports whether r or w is a terminal: a file the terminal
// driver answers for. A character device is not enough: /dev/null, the
// standard input of a systemd service, is one too.
func isTTY(rw any) bool {
	f := fileOf(rw)
	return f != nil && ttyFile(f)
}

// fileOf is the file r or w is, or writes through to (the stdout that
// keeps its failure, a memo's tee); nil when it is none.
func fileOf(rw any) *os.File {
	switch f := rw.(type) {
	case *os.File:
		return f
	case *outputWriter:
		return fileOf(f.w)
	case interface{ File() *os.File }:
		return f.File()
	}
	return nil
}

// terminalWidth is w's width in columns, 80 when it cannot say.
func terminalWidth(w io.Writer) int {
	if f := fileOf(w); f != nil {
		if cols := ttyColumns(f); cols > 0 {
			return cols
		}
	}
	return 80
}
