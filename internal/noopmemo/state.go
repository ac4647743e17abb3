package noopmemo

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"nixvirt.dev/nixvirt/compiler/gocheck"
)

// SystemOwnersDir is root's owners directory, which users read too.
const SystemOwnersDir = "/var/lib/nixvirt-owners"

// StateDir is the state directory as package apply finds it:
// $NIXVIRT_STATE_DIR, root's /var/lib/nixvirt, a user's
// $XDG_STATE_HOME/nixvirt or ~/.local/state/nixvirt.
func StateDir() string {
	if d := os.Getenv("NIXVIRT_STATE_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/nixvirt"
	}
	return userStateDir("nixvirt")
}

// OwnersDir is this user's owners directory as package apply finds it.
func OwnersDir() string {
	if d := os.Getenv("NIXVIRT_OWNERS_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return SystemOwnersDir
	}
	return userStateDir(filepath.Join("nixvirt", "owners"))
}

func userStateDir(sub string) string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, sub)
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", sub)
}

// StateDigest is the digest of what planning reads of the state and
// owners directories for the connections uris. It takes in more than
// planning reads, never less: each directory's owner and mode, every
// file of each connection in the state directory (records, definitions,
// journal; not its lock, and not the compile records, which Files
// covers), each connection's claims in each owners directory, and the
// records of every state directory those claims name.
func StateDigest(stateDir string, ownersDirs []string, uris []string) string {
	var d digest
	dirStat(&d, stateDir)
	entries, _ := os.ReadDir(stateDir)
	for _, uri := range uris {
		conn := gocheck.ConnectionFileName(uri)
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, conn+".") && !strings.HasSuffix(name, ".lock") {
				fileDigest(&d, filepath.Join(stateDir, name))
			}
		}
		d.add("/")
	}
	elsewhere := map[string]bool{}
	for _, dir := range ownersDirs {
		dirStat(&d, dir)
		for _, uri := range uris {
			name := filepath.Join(dir, gocheck.ConnectionFileName(uri)+".json")
			fileDigest(&d, name)
			var cf struct {
				Claims map[string]struct {
					StateDir string `json:"stateDir"`
				} `json:"claims"`
			}
			if data, err := os.ReadFile(name); err == nil && json.Unmarshal(data, &cf) == nil {
				for _, c := range cf.Claims {
					elsewhere[c.StateDir] = true
				}
			}
		}
	}
	others := make([]string, 0, len(elsewhere))
	for dir := range elsewhere {
		others = append(others, dir)
	}
	sort.Strings(others)
	for _, dir := range others {
		dirStat(&d, dir)
		for _, uri := range uris {
			fileDigest(&d, filepath.Join(dir, gocheck.ConnectionFileName(uri)+".json"))
		}
	}
	return d.sum()
}

// dirStat adds a directory's path, owner and mode, or that it is missing:
// of the path itself and, through a symbolic link, of where it leads
// (which package apply judges).
func dirStat(d *digest, dir string) {
	d.add(dir)
	for _, stat := range []func(string) (os.FileInfo, error){os.Lstat, os.Stat} {
		fi, err := stat(dir)
		if err != nil {
			d.add("missing")
			continue
		}
		uid := "?"
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid = strconv.FormatUint(uint64(st.Uid), 10)
		}
		d.add(fi.Mode().String(), uid)
	}
}

// fileDigest adds a file's path, mode and owner (package apply trusts a
// claims file by both), whether it is a symbolic link (which nixvirt
// refuses to follow), and the hash of its bytes (or that it cannot be
// read).
func fileDigest(d *digest, name string) {
	fi, err := os.Lstat(name)
	if err != nil {
		d.add(name, "missing")
		return
	}
	uid := "?"
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		uid = strconv.FormatUint(uint64(st.Uid), 10)
	}
	d.add(name, fi.Mode().String(), uid, FileHash(name))
}
