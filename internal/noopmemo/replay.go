package noopmemo

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"

	"nixvirt.dev/nixvirt/compiler/gocheck"
)

// Reader is what repeating a memo's reads needs of a host (package
// rpcread's Conn).
type Reader interface {
	List(kind string) ([]Object, error)
	Running(kind, uuid string) (string, error)
	Definition(kind, uuid string) (string, error)
	Volumes(pool string) ([]Volume, error)
	HasManagedSave(uuid string) (bool, error)
	Resumed(uuid string) (bool, error)
	HostCPUs() (string, error)
}

// Matches reports whether m is the memo of this command line: the same
// arguments, working directory, environment (Environ), user, terminals
// and build (the executable the command line would be handed to).
func (m *Memo) Matches(args []string, dir string, env []string, euid int, ttys [3]bool, build Build) bool {
	return m.Format == Format && slices.Equal(m.Args, args) && m.Dir == dir && slices.Equal(m.Env, env) &&
		m.Euid == euid && m.Terminals == ttys && m.Build == build
}

// Same reports whether every recorded read of r answers as it did.
func Same(r Reader, calls []Call) bool {
	const readers = 4 // as many calls at once as libvirtd serves a client, less one
	next := make(chan Call)
	var mu sync.Mutex
	same := true
	var wg sync.WaitGroup
	for w := 0; w < min(readers, len(calls)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				if answer(r, c) != c.Sum {
					mu.Lock()
					same = false
					mu.Unlock()
				}
			}
		}()
	}
	for _, c := range calls {
		next <- c
	}
	close(next)
	wg.Wait()
	return same
}

// answer is the digest of r's answer to c, "" when it fails or is not a
// read this package knows.
func answer(r Reader, c Call) string {
	switch c.Method {
	case MethodList:
		objs, err := r.List(c.Kind)
		if err == nil {
			return SumObjects(objs)
		}
	case MethodRunning:
		x, err := r.Running(c.Kind, c.Arg)
		if err == nil {
			return SumString(x)
		}
	case MethodDefinition:
		x, err := r.Definition(c.Kind, c.Arg)
		if err == nil {
			return SumString(x)
		}
	case MethodVolumes:
		vols, err := r.Volumes(c.Arg)
		if err == nil {
			return SumVolumes(vols)
		}
	case MethodHasManagedSave:
		has, err := r.HasManagedSave(c.Arg)
		if err == nil {
			return SumBool(has)
		}
	case MethodHostCPUs:
		cpus, err := r.HostCPUs()
		if err == nil {
			return SumString(cpus)
		}
	case MethodResumed:
		resumed, err := r.Resumed(c.Arg)
		if err == nil {
			return SumBool(resumed)
		}
	}
	return ""
}

// LockConnection takes the locks package apply holds on a connection for
// the whole of an apply, in the same order: the state directory's, then
// the one of this user's owners directory (which applies from other
// state directories take), so that a memo is not checked against a host
// that an apply is changing: it waits for that apply to end, as an apply
// would. It creates nothing: without a lock file (no apply ever ran
// there) it reports false, and the whole build runs.
func LockConnection(stateDir, ownersDir, uri string) (unlock func(), ok bool) {
	var held []*os.File
	release := func() {
		for _, f := range held {
			_ = f.Close() // closing releases the lock
		}
	}
	for _, dir := range []string{stateDir, ownersDir} {
		f, err := os.OpenFile(filepath.Join(dir, gocheck.ConnectionFileName(uri)+".lock"), os.O_RDWR|syscall.O_NOFOLLOW, 0)
		if err != nil {
			release()
			return nil, false
		}
		held = append(held, f)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			release()
			return nil, false
		}
	}
	return release, true
}

// Trusted reports whether the state directory is one package apply
// trusts: this user's (or root's, for root) and writable by no one else,
// judged, through a symbolic link, by where it leads, as package apply
// judges it. A memo in any other could have been written by someone else.
func Trusted(stateDir string) bool {
	fi, err := os.Stat(stateDir)
	if err != nil || !fi.IsDir() {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid() && fi.Mode().Perm()&0o022 == 0
}
