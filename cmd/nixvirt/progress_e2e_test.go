package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// e2eRun is a nixvirt process of an end-to-end test, its output (stdout
// and stderr in one stream, so that their order is kept) read line by
// line as it comes.
type e2eRun struct {
	t     *testing.T
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	more  chan struct{} // a line came
	ended chan struct{} // the output ended
}

// nixvirtBinary is this test binary under the name nixvirt, which
// testscript.Main runs as nixvirt itself.
func nixvirtBinary(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "nixvirt")
	if err := os.Symlink(exe, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

func startNixvirt(t *testing.T, bin string, env []string, args ...string) *e2eRun {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	run := &e2eRun{t: t, cmd: exec.Command(bin, args...), more: make(chan struct{}, 1), ended: make(chan struct{})}
	run.cmd.Env = append(os.Environ(), env...)
	run.cmd.Stdout, run.cmd.Stderr = w, w
	if err := run.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	go func() {
		defer close(run.ended)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			run.mu.Lock()
			run.lines = append(run.lines, sc.Text())
			run.mu.Unlock()
			select {
			case run.more <- struct{}{}:
			default:
			}
		}
	}()
	return run
}

// waitLine waits for a line that contains s; it fails the test when the
// output ends without one.
func (r *e2eRun) waitLine(s string) {
	r.t.Helper()
	for {
		r.mu.Lock()
		for _, l := range r.lines {
			if strings.Contains(l, s) {
				r.mu.Unlock()
				return
			}
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-r.ended:
			r.t.Fatalf("no line with %q in:\n%s", s, r.output())
		}
	}
}

func (r *e2eRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// wait waits for the process and its output, and returns its exit code.
func (r *e2eRun) wait() int {
	err := r.cmd.Wait()
	<-r.ended
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode()
	case err != nil:
		r.t.Fatal(err)
	}
	return 0
}

// index is the number of the first line that contains s, -1 if none.
func (r *e2eRun) index(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, l := range r.lines {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

func (r *e2eRun) count(s string) int {
	return strings.Count(r.output(), s)
}

// openPTY opens a pseudo-terminal: its controlling side and the terminal.
func openPTY(t *testing.T) (*os.File, *os.File) {
	ctl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var unlock int32
	var n uint32
	for _, req := range []struct {
		op  uintptr
		arg unsafe.Pointer
	}{{syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)}, {syscall.TIOCGPTN, unsafe.Pointer(&n)}} {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, ctl.Fd(), req.op, uintptr(req.arg)); errno != 0 {
			t.Fatal(errno)
		}
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ctl, tty
}

// TestE2EProgressAndSignals stops two guests that ignore ACPI (QEMU with
// no operating system: each shutdown waits its whole timeout) on the real
// libvirtd, and checks apply's progress through a pipe and on a terminal,
// that the two shutdowns run at once, and Ctrl-C, a second Ctrl-C and
// SIGTERM with their exit codes. Its objects are nvxrun-<pid>-a and -b;
// it never prunes.
func TestE2EProgressAndSignals(t *testing.T) {
	uri := e2eURI(t)
	bin := nixvirtBinary(t)
	id := fmt.Sprintf("nvxrun-%d", os.Getpid()%100000)
	a, b := id+"-a", id+"-b"
	dir := t.TempDir()
	env := []string{"NIXVIRT_STATE_DIR=" + filepath.Join(dir, "state")}
	for _, name := range []string{a, b} {
		t.Cleanup(func() {
			exec.Command("virsh", "-c", uri, "destroy", name).Run()
			exec.Command("virsh", "-c", uri, "undefine", name).Run()
		})
	}
	const timeout = 4
	configure := func(active bool) {
		var doms strings.Builder
		for i, name := range []string{a, b} {
			fmt.Fprintf(&doms, "%q: {definition: {type: \"qemu\", uuid: \"7e2e0000-0000-4000-8000-%06d%06d\", memory: {count: 32, unit: \"MiB\"}, os: type: \"hvm\"}, active: %v, shutdownTimeout: %d}\n",
				name, os.Getpid()%100000, i, active, timeout)
		}
		cue := fmt.Sprintf("package host\n\nconnections: %q: domains: {\n%s}\n", uri, doms.String())
		if err := os.WriteFile(filepath.Join(dir, "host.cue"), []byte(cue), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	apply := func(args ...string) *e2eRun {
		return startNixvirt(t, bin, env, append([]string{"apply", "--no-prune"}, append(args, dir)...)...)
	}
	state := func(name string) string { return virsh(t, uri, "domstate", name) }
	start := func() {
		t.Helper()
		configure(true)
		if r := apply("--yes"); r.wait() != 0 {
			t.Fatalf("apply (start):\n%s", r.output())
		}
		for _, name := range []string{a, b} {
			if s := state(name); s != "running" {
				t.Fatalf("%s: %s", name, s)
			}
		}
		configure(false)
	}

	// Through a pipe: no question (stopping asks only on a terminal), a
	// line when each wait begins, each outcome as it comes; both waits
	// begin before either ends.
	start()
	began := time.Now()
	r := apply()
	if code := r.wait(); code != 0 {
		t.Fatalf("apply (stop) exit %d:\n%s", code, r.output())
	}
	t.Logf("two shutdowns of %d s each took %.1f s through a pipe:\n%s", timeout, time.Since(began).Seconds(), r.output())
	firstDone := min(r.index("domain/"+a+" stopped"), r.index("domain/"+b+" stopped"))
	for _, name := range []string{a, b} {
		wait := fmt.Sprintf("domain/%s: waiting for shutdown (1s of %ds)", name, timeout)
		if i := r.index(wait); i < 0 || firstDone < 0 || i > firstDone {
			t.Errorf("want %q before the first outcome (shutdowns in parallel)", wait)
		}
		if n := r.count("domain/" + name + ": waiting"); n != 1 {
			t.Errorf("%s: %d wait lines in %d s, want 1 (then one every 10 s)", name, n, timeout)
		}
		if s := state(name); s != "shut off" {
			t.Errorf("%s: %s", name, s)
		}
	}

	// On a terminal: the plan and the question ("yes"), then the waits
	// as a status line rewritten in place.
	start()
	ctl, tty := openPTY(t)
	cmd := exec.Command(bin, "apply", "--no-prune", dir)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var raw strings.Builder
	copied := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ctl.Read(buf)
			raw.Write(buf[:n])
			if strings.Contains(raw.String(), "Apply these changes? ") && !strings.Contains(raw.String(), "yes\r\n") {
				ctl.Write([]byte("yes\n"))
			}
			if err != nil {
				close(copied)
				return
			}
		}
	}()
	err := cmd.Wait()
	<-copied
	ctl.Close()
	screen := raw.String()
	if err != nil {
		t.Fatalf("apply on a terminal: %v\n%q", err, screen)
	}
	if !strings.Contains(screen, "This apply stops domain/"+a+", domain/"+b+".") {
		t.Errorf("no question on the terminal:\n%q", screen)
	}
	if n := strings.Count(screen, "domain/"+a+": waiting for shutdown"); n < 2 {
		t.Errorf("the status line was drawn %d times for %s, want one a second:\n%q", n, a, screen)
	}
	for _, line := range strings.Split(screen, "\n") {
		if i := strings.LastIndex(line, "\r\x1b[K"); i >= 0 {
			line = line[i+len("\r\x1b[K"):]
		}
		if strings.Contains(line, "waiting for shutdown") {
			t.Errorf("a wait stayed on the screen as a line: %q", line)
		}
	}

	// Ctrl-C: acknowledged at once, the shutdowns finish, exit 130.
	start()
	r = apply()
	r.waitLine(b + ": waiting for shutdown")
	r.cmd.Process.Signal(os.Interrupt)
	r.waitLine("Interrupted: finishing domain/" + a + ", domain/" + b + "; Ctrl-C again to stop waiting for shutdowns.")
	if code := r.wait(); code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130:\n%s", code, r.output())
	}
	for _, name := range []string{a, b} {
		if !strings.Contains(r.output(), "domain/"+name+" stopped") || state(name) != "shut off" {
			t.Errorf("%s was not finished after one Ctrl-C:\n%s", name, r.output())
		}
	}

	// A second Ctrl-C stops waiting: the guests are left running, not
	// forced off; exit 130.
	start()
	r = apply()
	r.waitLine(b + ": waiting for shutdown")
	r.cmd.Process.Signal(os.Interrupt)
	r.waitLine("Ctrl-C again")
	r.cmd.Process.Signal(os.Interrupt)
	if code := r.wait(); code != 130 {
		t.Errorf("exit %d after two Ctrl-C, want 130:\n%s", code, r.output())
	}
	if !strings.Contains(r.output(), "Interrupted: no longer waiting for shutdowns") {
		t.Errorf("second Ctrl-C not acknowledged:\n%s", r.output())
	}
	for _, name := range []string{a, b} {
		if !strings.Contains(r.output(), "domain/"+name+" interrupted while waiting for a shutdown") || state(name) != "running" {
			t.Errorf("%s: want left running and reported:\n%s", name, r.output())
		}
	}

	// SIGTERM stops waiting at once: exit 143.
	r = apply()
	r.waitLine(b + ": waiting for shutdown")
	r.cmd.Process.Signal(syscall.SIGTERM)
	if code := r.wait(); code != 143 {
		t.Errorf("exit %d after SIGTERM, want 143:\n%s", code, r.output())
	}
	if !strings.Contains(r.output(), "Terminated: no longer waiting for shutdowns") || state(a) != "running" {
		t.Errorf("SIGTERM:\n%s", r.output())
	}

	// The next apply finishes what was left.
	r = apply()
	if code := r.wait(); code != 0 || state(a) != "shut off" || state(b) != "shut off" {
		t.Errorf("the next apply did not converge (exit %d):\n%s", code, r.output())
	}
}
