package noopmemo

import (
	"os"
	"syscall"
)

// StatOf is what stat says of a file; false where it cannot tell all of
// it.
func StatOf(name string) (FileStat, bool) {
	fi, err := os.Stat(name)
	if err != nil {
		return FileStat{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return FileStat{}, false
	}
	return FileStat{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Ctime: st.Ctim.Nano(), Ino: uint64(st.Ino), Dev: uint64(st.Dev)}, true
}
