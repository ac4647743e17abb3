//go:build !nolibvirt

package main

import (
	"os"
	"syscall"
	"testing"
)

// A first Ctrl-C finishes, a second abandons; the exit code is 130.
func TestTwoInterrupts(t *testing.T) {
	finished, abandoned := make(chan struct{}), make(chan os.Signal, 1)
	i := catchInterrupts(func() { close(finished) }, func(s os.Signal) { abandoned <- s })
	defer i.stop()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	<-finished
	if i.finish.Err() == nil || i.abandon.Err() != nil {
		t.Fatal("a first Ctrl-C must finish, not abandon")
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	if s := <-abandoned; s != os.Interrupt || i.abandon.Err() == nil {
		t.Fatalf("a second Ctrl-C must abandon: %v", s)
	}
	if code := i.exitCode(); code != 130 {
		t.Fatalf("exit code %d", code)
	}
}

// SIGTERM abandons at once, and its exit code is 143.
func TestTerminate(t *testing.T) {
	abandoned := make(chan os.Signal, 1)
	i := catchInterrupts(func() { t.Error("SIGTERM only finishes") }, func(s os.Signal) { abandoned <- s })
	defer i.stop()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	if s := <-abandoned; s != syscall.SIGTERM || i.finish.Err() == nil || i.abandon.Err() == nil {
		t.Fatalf("SIGTERM: %v", s)
	}
	if code := i.exitCode(); code != 143 {
		t.Fatalf("exit code %d", code)
	}
}

// Without a signal, apply exits as its results say.
func TestNoInterrupt(t *testing.T) {
	i := catchInterrupts(func() {}, func(os.Signal) {})
	i.stop()
	if code := i.exitCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
