//go:build !nolibvirt

package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interrupts turns SIGINT and SIGTERM into apply's two ways of stopping
// early. A first Ctrl-C cancels finish: apply begins nothing more and
// finishes what it has begun, waiting for the guests it asked to shut
// down. A second Ctrl-C, or SIGTERM at any time (what systemd and
// service managers send), also cancels abandon: apply stops waiting. A
// Ctrl-C after that is no longer caught and ends the process at once.
type interrupts struct {
	finish, abandon             context.Context
	cancelFinish, cancelAbandon context.CancelFunc
	signals                     chan os.Signal
	done                        chan struct{}
	wg                          sync.WaitGroup
	mu                          sync.Mutex
	got                         os.Signal // the last signal that stopped apply; nil: none
}

// catchInterrupts starts catching the signals; onFinish and onAbandon say
// so to the user (they run in the signal goroutine). stop ends it.
func catchInterrupts(onFinish func(), onAbandon func(sig os.Signal)) *interrupts {
	i := &interrupts{signals: make(chan os.Signal, 2), done: make(chan struct{})}
	i.finish, i.cancelFinish = context.WithCancel(context.Background())
	i.abandon, i.cancelAbandon = context.WithCancel(context.Background())
	signal.Notify(i.signals, os.Interrupt, syscall.SIGTERM)
	i.wg.Add(1)
	go func() {
		defer i.wg.Done()
		for {
			select {
			case <-i.done:
				return
			case sig := <-i.signals:
				i.mu.Lock()
				if i.got != syscall.SIGTERM {
					i.got = sig
				}
				i.mu.Unlock()
				if sig == os.Interrupt && i.finish.Err() == nil {
					i.cancelFinish()
					onFinish()
					continue
				}
				i.cancelFinish()
				i.cancelAbandon()
				signal.Reset(os.Interrupt, syscall.SIGTERM)
				onAbandon(sig)
				return
			}
		}
	}()
	return i
}

// stop stops catching the signals.
func (i *interrupts) stop() {
	signal.Stop(i.signals)
	close(i.done)
	i.wg.Wait()
	i.cancelFinish()
	i.cancelAbandon()
}

// exitCode is the shell's code for the signal that stopped apply, 128
// plus its number (130 for SIGINT, 143 for SIGTERM); 0 when none did.
func (i *interrupts) exitCode() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	if s, ok := i.got.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 0
}
