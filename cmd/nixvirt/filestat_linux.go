//go:build !nolibvirt

package main

import (
	"os"
	"syscall"
)

// statOf is what stat says of a file, for the compile record
// (fileStat); false where it cannot tell all of it.
func statOf(name string) (fileStat, bool) {
	fi, err := os.Stat(name)
	if err != nil {
		return fileStat{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStat{}, false
	}
	return fileStat{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Ctime: st.Ctim.Nano(), Ino: uint64(st.Ino), Dev: uint64(st.Dev)}, true
}
