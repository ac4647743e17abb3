// Package noopmemo lets an apply that changes nothing end without loading
// CUE or libvirt, the bulk of its time (a no-op apply of a hundred
// domains spent about 50 of its 130 ms in Go's initialisation of cue's
// packages and in the dynamic loader binding libvirt and its 57
// libraries).
//
// The whole build, after a plan or apply that changed nothing, writes a
// memo into the state directory: everything the run depended on, and what
// it printed. That is the command line, working directory, environment,
// user and build; the bytes of every file the configuration was compiled
// from (the compile record's list); nixvirt's records and the owners'
// claims of the connection; and every read it made of each host (which
// call, and a digest of the answer). The front (cmd/nixvirt-front), given
// the same command line, checks all of that, repeating each read over
// libvirt's RPC protocol without libvirt's library (package rpcread), and
// when every answer is the same prints what the run printed: the run
// would be the same, as planning is a function of those inputs.
// Anything different, missing or not understood hands the command line
// over to the whole build as before, so a memo can make a run faster but
// never different.
//
// A run does not write a memo when it read anything the memo cannot
// repeat: a host read outside the recorded calls, a secret's value (from
// a file or an environment variable), a configuration the compile record
// does not cover (stdin, embedded files, cloud-init seeds).
package noopmemo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Format is the memo's format: a memo of another is not used.
const Format = 1

// Memo is what a run that changed nothing depended on, and what it
// printed.
type Memo struct {
	Format int `json:"format"`
	// Build is the executable that ran, as Identify says.
	Build Build `json:"build"`
	// Args are the arguments after the program name; Dir the working
	// directory; Env the environment that nixvirt or libvirt read
	// (Environ); Euid the user.
	Args []string `json:"args"`
	Dir  string   `json:"dir"`
	Env  []string `json:"env"`
	Euid int      `json:"euid"`
	// Terminals says which of stdin, stdout and stderr were terminals
	// (colour, questions).
	Terminals [3]bool `json:"terminals"`
	// Files, Stats and Dirs are the configuration's inputs as the
	// compile record has them (Unchanged).
	Files map[string]string   `json:"files"`
	Stats map[string]FileStat `json:"stats,omitempty"`
	Dirs  map[string]string   `json:"dirs,omitempty"`
	// State is the digest of nixvirt's records and claims (StateDigest).
	State string `json:"state"`
	// Hosts are the reads of each connection.
	Hosts []Host `json:"hosts"`
	// Stdout and Stderr are what the run printed.
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// Build identifies an executable by its path, size and modification
// time: a rebuilt or replaced nixvirt differs in one.
type Build struct {
	Path  string `json:"path"`
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtime"`
}

// Identify is the Build of the executable at path ("" and false when it
// cannot be stat'ed).
func Identify(path string) (Build, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return Build{}, false
	}
	return Build{Path: path, Size: fi.Size(), Mtime: fi.ModTime().UnixNano()}, true
}

// Host is one connection's reads.
type Host struct {
	URI   string `json:"uri"`
	Calls []Call `json:"calls"`
}

// Call is one read of a host and a digest of its answer.
type Call struct {
	Method string `json:"method"`
	Kind   string `json:"kind,omitempty"`
	Arg    string `json:"arg,omitempty"`
	Sum    string `json:"sum"`
}

// The reads a memo records and repeats.
const (
	MethodList = "List"
	// MethodRunning reads the running definition of a domain or network:
	// a listing with the running definitions (package apply's
	// ListWithRunning) is recorded as List and one Running per definition
	// it read, so that repeating it needs no knowledge of which it reads.
	MethodRunning        = "Running"
	MethodDefinition     = "Definition"
	MethodVolumes        = "Volumes"
	MethodHasManagedSave = "HasManagedSave"
	// MethodResumed: whether a running domain was restored from a state
	// file (libvirt's state reason).
	MethodResumed = "Resumed"
	// MethodHostCPUs: the host's online CPUs.
	MethodHostCPUs = "HostCPUs"
)

// Object is a listed object as a digest sees it.
type Object struct {
	UUID, Name, XML   string
	Active, Autostart bool
}

// Volume is a listed volume as a digest sees it.
type Volume struct{ Name, XML string }

// digest hashes strings, each prefixed by its length, as they come:
// the definitions of a listing are a megabyte.
type digest struct{ h hash.Hash }

func (d *digest) add(ss ...string) {
	if d.h == nil {
		d.h = sha256.New()
	}
	var n [20]byte
	for _, s := range ss {
		d.h.Write(strconv.AppendInt(n[:0], int64(len(s)), 10))
		d.h.Write([]byte{':'})
		_, _ = io.WriteString(d.h, s) // a hash takes every write
	}
}

func (d *digest) sum() string {
	if d.h == nil {
		d.h = sha256.New()
	}
	return hex.EncodeToString(d.h.Sum(nil))
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// SumObjects is the digest of a list call's answer, in its order.
func SumObjects(objs []Object) string {
	var d digest
	for _, o := range objs {
		d.add(o.UUID, o.Name, o.XML, flag(o.Active), flag(o.Autostart))
	}
	return d.sum()
}

// SumVolumes is the digest of a pool's volumes, in their order.
func SumVolumes(vols []Volume) string {
	var d digest
	for _, v := range vols {
		d.add(v.Name, v.XML)
	}
	return d.sum()
}

// SumString is the digest of an answer that is a string.
func SumString(s string) string {
	var d digest
	d.add(s)
	return d.sum()
}

// SumBool is the digest of an answer that is yes or no.
func SumBool(b bool) string { return SumString(flag(b)) }

// TraceVar, set, makes the front say on stderr why it did or did not
// answer from a memo. It is not part of the memo's environment.
const TraceVar = "NIXVIRT_MEMO_TRACE"

// Environ is the part of the environment a run may depend on: nixvirt's
// and libvirt's own variables (but handedOver, which says how the build
// was run, and TraceVar), where the state and libvirt's configuration
// and sockets live, colour, language and time zone, and PATH (which
// tools are found), sorted.
func Environ(env []string, handedOver string) []string {
	var out []string
	for _, e := range env {
		name, _, _ := strings.Cut(e, "=")
		switch {
		case name == handedOver || name == TraceVar:
		case strings.HasPrefix(name, "NIXVIRT_"), strings.HasPrefix(name, "LIBVIRT_"), strings.HasPrefix(name, "LC_"):
			out = append(out, e)
		default:
			switch name {
			case "HOME", "USER", "LANG", "TZ", "NO_COLOR", "TERM", "PATH",
				"XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR", "XDG_CACHE_HOME":
				out = append(out, e)
			}
		}
	}
	sort.Strings(out)
	return out
}

// File is where the memo of a command line lives in a state directory.
func File(stateDir string, args []string, dir string) string {
	var d digest
	d.add(fmt.Sprint(Format), dir)
	d.add(args...)
	return filepath.Join(stateDir, "noop-"+d.sum()[:32]+".json")
}

// Write writes m as the memo of its command line, atomically.
func Write(stateDir string, m *Memo) error {
	m.Format = Format
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	name := File(stateDir, m.Args, m.Dir)
	tmp, err := os.CreateTemp(stateDir, ".noop-*")
	if err != nil {
		return err
	}
	if _, err = tmp.Write(data); err == nil {
		err = tmp.Close()
	} else {
		_ = tmp.Close() // the write failed already
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		_ = os.Remove(tmp.Name()) // best effort: the memo is only a shortcut
	}
	return err
}

// Remove removes the memo of a command line, if any: a run that changed
// something or failed leaves none behind (one would only fail to match).
func Remove(stateDir string, args []string, dir string) {
	_ = os.Remove(File(stateDir, args, dir)) // a memo left is never wrongly used
}

// errNoMemo: there is no memo to use.
var errNoMemo = errors.New("no memo")

// Read reads the memo of a command line, following no link.
func Read(stateDir string, args []string, dir string) (*Memo, error) {
	f, err := os.OpenFile(File(stateDir, args, dir), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, errNoMemo
	}
	defer func() { _ = f.Close() }() // read only
	var m Memo
	if err := json.NewDecoder(f).Decode(&m); err != nil || m.Format != Format {
		return nil, errNoMemo
	}
	return &m, nil
}
