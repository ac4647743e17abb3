//go:build !nolibvirt

package main

import (
	"sync"
	"testing"

	"nixvirt.dev/nixvirt/apply"
)

// dialedHost is a connection a test dialed, which knows whether it was
// closed.
type dialedHost struct {
	apply.Host
	uri    string
	closed bool
}

func (h *dialedHost) Close() error { h.closed = true; return nil }

// dialer counts the connections it opens, by URI.
type dialer struct {
	mu     sync.Mutex
	opened []*dialedHost
}

func (d *dialer) dial(uri string) (apply.Host, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	h := &dialedHost{uri: uri}
	d.opened = append(d.opened, h)
	return h, nil
}

func (d *dialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.opened)
}

// TestDialEarly: the --connect URI is dialed before it is asked for, and
// the first plan or apply of it gets that connection; any other gets its
// own. A connection nothing took is closed; a remote URI (which may ask
// for a password) and no URI are not dialed early.
func TestDialEarly(t *testing.T) {
	var d dialer
	connect, release := dialEarly("qemu:///system", d.dial)
	h, err := connect("qemu:///system")
	if err != nil || d.count() != 1 || h != apply.Host(d.opened[0]) {
		t.Fatalf("first connection: %v, %d dialed", err, d.count())
	}
	if h2, _ := connect("qemu:///system"); h2 == h || d.count() != 2 {
		t.Fatalf("second connection: the early one again, or %d dialed", d.count())
	}
	if h3, _ := connect("test:///default"); h3.(*dialedHost).uri != "test:///default" {
		t.Fatal("another URI got the early connection")
	}
	release()
	if d.opened[0].closed {
		t.Error("release closed a connection in use")
	}

	var unused dialer
	_, release = dialEarly("qemu:///session", unused.dial)
	release()
	if unused.count() != 1 || !unused.opened[0].closed {
		t.Errorf("unused early connection: %d dialed, closed %v", unused.count(), unused.count() == 1 && unused.opened[0].closed)
	}

	for _, uri := range []string{"qemu+ssh://root@host/system", ""} {
		var late dialer
		connect, release := dialEarly(uri, late.dial)
		if late.count() != 0 {
			t.Errorf("%q dialed before it was asked for", uri)
		}
		if _, err := connect(uri); err != nil || late.count() != 1 {
			t.Errorf("%q: %v, %d dialed", uri, err, late.count())
		}
		release()
	}
}
