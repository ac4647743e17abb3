//go:build !nolibvirt

package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"nixvirt.dev/nixvirt/apply"
	"nixvirt.dev/nixvirt/apply/live"
	"nixvirt.dev/nixvirt/compiler"
	"nixvirt.dev/nixvirt/internal/handover"
	"nixvirt.dev/nixvirt/internal/noopmemo"
	"nixvirt.dev/nixvirt/internal/rpcread"
)

// A plan or apply that changed nothing leaves a memo (package noopmemo)
// from which the front answers the same command line while nothing it
// depended on changes. memoRun records, during the run, what the memo
// needs: every read of each host (through recordingHost), what the
// command printed, and the compile record's inputs.

// memoRun is the recording of one plan or apply.
type memoRun struct {
	c      *Command
	args   []string
	stdout *teeWriter
	stderr *teeWriter
	ttys   [3]bool

	mu    sync.Mutex
	reads map[string]map[memoCallKey]string // by URI
	// states are the digests of nixvirt's records of each connection
	// before it was first read (noopmemo.StateDigest): a memo is written
	// only if they are the same at the end, so that its records are the
	// ones the reads were planned with.
	states  map[string]string
	spoiled bool
}

type memoCallKey struct{ method, kind, arg string }

// startMemo begins recording c's run: its output is copied from here on.
func startMemo(c *Command) *memoRun {
	m := &memoRun{c: c, args: c.args, reads: map[string]map[memoCallKey]string{}, states: map[string]string{},
		ttys: [3]bool{isTTY(c.stdin), isTTY(c.stdout), isTTY(c.stderr)}}
	if c.args == nil {
		m.spoiled = true // run as a library, not a command line
	}
	// The copy of stdout is taken under the writer that keeps its first
	// failure, which finish looks at.
	m.stdout, m.stderr = &teeWriter{w: c.stdout.w}, &teeWriter{w: c.stderr}
	c.stdout.w, c.stderr = m.stdout, m.stderr
	return m
}

// spoil marks the run as one no memo may be written of.
func (m *memoRun) spoil() {
	m.mu.Lock()
	m.spoiled = true
	m.mu.Unlock()
}

// connector wraps dial's hosts in recordingHost.
func (m *memoRun) connector(dial apply.Connector) apply.Connector {
	return func(uri string) (apply.Host, error) {
		state := stateDigest(uri)
		m.mu.Lock()
		if _, ok := m.states[uri]; !ok {
			m.states[uri] = state
		}
		m.mu.Unlock()
		h, err := dial(uri)
		if err != nil {
			m.spoil()
			return h, err
		}
		if !directCapabilities(h) {
			// Wrapped, it would seem to have them: not recorded.
			m.spoil()
			return h, nil
		}
		return &recordingHost{Host: h, run: m}, nil
	}
}

// directCapabilities reports whether h has every capability package apply
// asks a host for by a type assertion rather than through Unwrap (a
// running listing, live changes, re-attaching interfaces), which
// recordingHost has too: wrapped, a host keeps what it can do, no more
// and no less (TestRecordingHostCapabilities).
func directCapabilities(h apply.Host) bool {
	_, lists := h.(interface {
		ListWithRunning(compiler.Kind) ([]apply.Live, error)
	})
	_, live := h.(interface {
		RunningXML(compiler.Kind, string) (string, error)
		ApplyLive(compiler.Kind, string, live.Change) error
	})
	_, reattaches := h.(interface {
		Reattach(domainUUID, network, bridge string) error
	})
	return lists && live && reattaches
}

// read records one read of a host; a failed read, or one answered
// differently twice in the run, spoils it.
func (m *memoRun) read(uri, method string, k compiler.Kind, arg, sum string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.spoiled = true
		return
	}
	calls := m.reads[uri]
	if calls == nil {
		calls = map[memoCallKey]string{}
		m.reads[uri] = calls
	}
	key := memoCallKey{method, string(k), arg}
	if old, ok := calls[key]; ok && old != sum {
		m.spoiled = true
	}
	calls[key] = sum
}

// finish writes the memo of a run that changed nothing (ok), and removes
// any memo of the command line otherwise: one left would not match, but
// need not be read again. With NIXVIRT_MEMO_TRACE set it says on stderr
// why it wrote none.
func (m *memoRun) finish(ok bool, f *hostFlags, wanted *apply.Desired) {
	if m.args == nil {
		return
	}
	stateDir := apply.StateDir()
	why := m.write(stateDir, ok, f, wanted)
	if why != "" {
		noopmemo.Remove(stateDir, m.args, m.c.dir)
	}
	if os.Getenv(noopmemo.TraceVar) != "" {
		fmt.Fprintln(m.stderr.w, "nixvirt: memo:", cmp.Or(why, "written"))
	}
}

// write writes the memo and returns "", or returns why it may not.
func (m *memoRun) write(stateDir string, ok bool, f *hostFlags, wanted *apply.Desired) string {
	switch {
	case !ok:
		return "not written: the run changed something, planned changes, or failed"
	case m.c.stdout.err != nil:
		return "not written: the output could not be written"
	case m.spoiled:
		return "not written: a read of the host failed, changed during the run, or is not one a memo repeats"
	case f.inputs == nil:
		return "not written: the configuration has no compile record (stdin, embedded files, a cloud-init seed, or files changed while compiling)"
	case !memoable(wanted):
		return "not written: a secret's value, or a volume's content file without its sha256, is read at every run"
	}
	build, found := noopmemo.Identify(handover.Self())
	if !found {
		return "not written: cannot tell this executable"
	}
	memo := &noopmemo.Memo{Build: build, Args: m.args, Dir: m.c.dir, Env: noopmemo.Environ(os.Environ(), handover.EnvVar),
		Euid: os.Geteuid(), Terminals: m.ttys,
		Files: f.inputs.Files, Stats: f.inputs.Stats, Dirs: f.inputs.Dirs,
		Stdout: m.stdout.String(), Stderr: m.stderr.String()}
	var uris []string
	for uri := range m.reads {
		uris = append(uris, uri)
	}
	sort.Strings(uris)
	for _, uri := range uris {
		host := noopmemo.Host{URI: uri}
		for k, sum := range m.reads[uri] {
			host.Calls = append(host.Calls, noopmemo.Call{Method: k.method, Kind: k.kind, Arg: k.arg, Sum: sum})
		}
		sort.Slice(host.Calls, func(i, j int) bool {
			a, b := host.Calls[i], host.Calls[j]
			return a.Method+"\x00"+a.Kind+"\x00"+a.Arg < b.Method+"\x00"+b.Kind+"\x00"+b.Arg
		})
		memo.Hosts = append(memo.Hosts, host)
	}
	// Every connection of the configuration was read (one that failed to
	// connect spoiled the run), and its records are as they were before.
	if len(uris) != len(wanted.Objects) {
		return "not written: not every connection was read"
	}
	for _, uri := range uris {
		if !memoURI(uri) {
			return "not written: the front cannot read " + uri + " without libvirt's library"
		}
	}
	for _, uri := range uris {
		if stateDigest(uri) != m.states[uri] {
			return "not written: nixvirt's records of " + uri + " changed during the run"
		}
	}
	memo.State = stateDigest(uris...)
	if err := noopmemo.Write(stateDir, memo); err != nil {
		return "not written: " + err.Error()
	}
	return ""
}

// memoURI reports whether the front can repeat the reads of a connection
// (package rpcread); the tests also take the test driver's.
var memoURI = rpcread.Supported

// stateDigest is the digest of nixvirt's records and claims of the
// connections uris.
func stateDigest(uris ...string) string {
	return noopmemo.StateDigest(apply.StateDir(), []string{apply.OwnersDir(), noopmemo.SystemOwnersDir}, uris)
}

// memoable reports whether a configuration's plan depends only on what a
// memo records: a secret's value is read from a file or the environment
// at every plan, and so is a volume's content file whose digest the
// configuration does not give.
func memoable(d *apply.Desired) bool {
	for _, ws := range d.Objects {
		for _, w := range ws {
			if w.SecretValue != nil {
				return false
			}
			for _, v := range w.Volumes {
				if c := v.Content; c != nil && c.File != "" && c.SHA256 == "" {
					return false
				}
			}
		}
	}
	return true
}

// recordingHost is a host whose reads memoRun records. Any other read,
// through Unwrap (the capabilities that apply finds on the host it
// wraps), spoils the run.
type recordingHost struct {
	apply.Host
	run *memoRun
}

func (h *recordingHost) Unwrap() apply.Host {
	h.run.spoil()
	return h.Host
}

func (h *recordingHost) List(k compiler.Kind) ([]apply.Live, error) {
	l, err := h.Host.List(k)
	h.run.read(h.URI(), noopmemo.MethodList, k, "", sumLives(l), err)
	return l, err
}

func (h *recordingHost) ListWithRunning(k compiler.Kind) ([]apply.Live, error) {
	rl, ok := h.Host.(interface {
		ListWithRunning(compiler.Kind) ([]apply.Live, error)
	})
	if !ok {
		return h.List(k)
	}
	l, err := rl.ListWithRunning(k)
	// Recorded as the listing and one read per running definition it
	// holds (noopmemo.MethodRunning).
	h.run.read(h.URI(), noopmemo.MethodList, k, "", sumLives(l), err)
	for _, o := range l {
		if o.Running != "" {
			h.run.read(h.URI(), noopmemo.MethodRunning, k, o.UUID, noopmemo.SumString(o.Running), nil)
		}
	}
	return l, err
}

func (h *recordingHost) Definition(k compiler.Kind, uuid string) (string, error) {
	x, err := h.Host.Definition(k, uuid)
	h.run.read(h.URI(), noopmemo.MethodDefinition, k, uuid, noopmemo.SumString(x), err)
	return x, err
}

func (h *recordingHost) Volumes(pool string) ([]apply.LiveVolume, error) {
	vols, err := h.Host.Volumes(pool)
	vs := make([]noopmemo.Volume, len(vols))
	for i, v := range vols {
		vs[i] = noopmemo.Volume{Name: v.Name, XML: v.XML}
	}
	h.run.read(h.URI(), noopmemo.MethodVolumes, "", pool, noopmemo.SumVolumes(vs), err)
	return vols, err
}

func (h *recordingHost) HasManagedSave(uuid string) (bool, error) {
	has, err := h.Host.HasManagedSave(uuid)
	h.run.read(h.URI(), noopmemo.MethodHasManagedSave, compiler.KindDomain, uuid, noopmemo.SumBool(has), err)
	return has, err
}

// Resumed, RunningPoolXML, RunningXML and HostCPUs are the reads of a
// host's capabilities (apply's hostAs) that a no-op plan makes: a running
// guest's state reason, a running pool's definition, a running domain's
// or network's, and the host's CPUs. A host without one answers as package apply
// takes a host without it (an error: not read), and spoils the memo.

func (h *recordingHost) Resumed(uuid string) (bool, error) {
	r, ok := h.Host.(interface{ Resumed(string) (bool, error) })
	if !ok {
		h.run.spoil()
		return false, errors.New("this connection cannot tell how a domain was started")
	}
	resumed, err := r.Resumed(uuid)
	h.run.read(h.URI(), noopmemo.MethodResumed, compiler.KindDomain, uuid, noopmemo.SumBool(resumed), err)
	return resumed, err
}

func (h *recordingHost) RunningPoolXML(uuid string) (string, error) {
	r, ok := h.Host.(interface{ RunningPoolXML(string) (string, error) })
	if !ok {
		h.run.spoil()
		return "", errors.New("this connection cannot read a running pool's definition")
	}
	x, err := r.RunningPoolXML(uuid)
	h.run.read(h.URI(), noopmemo.MethodRunning, compiler.KindPool, uuid, noopmemo.SumString(x), err)
	return x, err
}

func (h *recordingHost) RunningXML(k compiler.Kind, uuid string) (string, error) {
	r, ok := h.Host.(interface {
		RunningXML(compiler.Kind, string) (string, error)
	})
	if !ok {
		h.run.spoil()
		return "", errors.New("this connection cannot read a running definition")
	}
	x, err := r.RunningXML(k, uuid)
	h.run.read(h.URI(), noopmemo.MethodRunning, k, uuid, noopmemo.SumString(x), err)
	return x, err
}

// Reattach re-attaches a running domain's interfaces (a write, which
// leaves no memo): apply asks the host for it directly, so a wrapper
// without it would stop and start the domains of a restarted network.
func (h *recordingHost) Reattach(domainUUID, network, bridge string) error {
	r, ok := h.Host.(interface {
		Reattach(domainUUID, network, bridge string) error
	})
	if !ok {
		h.run.spoil()
		return errors.New("this connection cannot re-attach interfaces")
	}
	return r.Reattach(domainUUID, network, bridge)
}

func (h *recordingHost) HostCPUs() (string, error) {
	r, ok := h.Host.(interface{ HostCPUs() (string, error) })
	if !ok {
		h.run.spoil()
		return "", errors.New("this connection cannot tell the host's CPUs")
	}
	cpus, err := r.HostCPUs()
	h.run.read(h.URI(), noopmemo.MethodHostCPUs, "", "", noopmemo.SumString(cpus), err)
	return cpus, err
}

// ApplyLive makes a live change (a write, which leaves no memo), so that
// the host is still one of live changes (apply's liveHost).
func (h *recordingHost) ApplyLive(k compiler.Kind, uuid string, c live.Change) error {
	r, ok := h.Host.(interface {
		ApplyLive(compiler.Kind, string, live.Change) error
	})
	if !ok {
		h.run.spoil()
		return errors.New("this connection cannot make live changes")
	}
	return r.ApplyLive(k, uuid, c)
}

func sumLives(ls []apply.Live) string {
	objs := make([]noopmemo.Object, len(ls))
	for i, l := range ls {
		// The running definitions are reads of their own.
		objs[i] = noopmemo.Object{UUID: l.UUID, Name: l.Name, XML: l.XML, Active: l.Active, Autostart: l.Autostart}
	}
	return noopmemo.SumObjects(objs)
}

// teeWriter writes through to w and keeps a copy; it is still w's
// terminal (isTTY).
type teeWriter struct {
	w   io.Writer
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.buf.Write(p)
	t.mu.Unlock()
	return t.w.Write(p)
}

func (t *teeWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// File is the file t writes to, for isTTY; nil when it is none.
func (t *teeWriter) File() *os.File {
	f, _ := t.w.(*os.File)
	return f
}
