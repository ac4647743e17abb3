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
	if o, ok := rw.(*outputWriter); ok {
		rw = o.w
	}
	f, ok := rw.(*os.File)
	return ok && ttyFile(f)
}

// terminalWidth is w's width in columns, 80 when it cannot say.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols := ttyColumns(f); cols > 0 {
			return cols
		}
	}
	return 80
}
