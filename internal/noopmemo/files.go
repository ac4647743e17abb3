package noopmemo

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"
)

// FileStat is what stat says of a file. Any change of the file's bytes
// sets its change time (ctime) to the time of the change, which no one
// can set otherwise, and a file replaced has another inode: so a file
// whose stat is all as recorded has the bytes it had, provided it had not
// changed in the moment before it was recorded, when a change could come
// within the same tick of the clock.
type FileStat struct {
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtime"`
	Ctime int64  `json:"ctime"`
	Ino   uint64 `json:"ino"`
	Dev   uint64 `json:"dev"`
}

// FileHash is the hash of a regular file's bytes, "" when it cannot be
// read or is no regular file: a pipe (/dev/fd/63 of a shell's process
// substitution) has other bytes at every read, and reading a named pipe
// no one writes to waits for ever. Read whole, as a configuration's files
// are small: a copy through a buffer allocated for each of a hundred XML
// files cost more than the hashing.
func FileHash(name string) string {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return ""
	}
	defer func() { _ = f.Close() }() // read only
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// DirHash is the hash of the names of a directory's .cue files (and of a
// cue.mod in it): what decides which files a CUE package is made of.
func DirHash(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "unreadable"
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".cue") || e.Name() == "cue.mod" {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	sum := sha256.Sum256([]byte(strings.Join(names, "\x00")))
	return hex.EncodeToString(sum[:])
}

// Unchanged reports whether every file still has the bytes recorded in
// files (trusting the stat of those in stats) and every package
// directory the .cue files recorded in dirs.
func Unchanged(files map[string]string, stats map[string]FileStat, dirs map[string]string) bool {
	for name, sum := range files {
		if st, ok := stats[name]; ok {
			if now, ok := StatOf(name); ok && now == st {
				continue
			}
		}
		if now := FileHash(name); now == "" || now != sum {
			return false
		}
	}
	for dir, sum := range dirs {
		if DirHash(dir) != sum {
			return false
		}
	}
	return true
}
