package apply

import "testing"

// TestConnectError: a failure to connect reads as one sentence naming
// the URI, libvirt's own message quoted apart from nixvirt's advice.
func TestConnectError(t *testing.T) {
	_, err := Connect("qemu:///system?socket=/nonexistent/nvi.sock")
	want := `cannot connect to qemu:///system?socket=/nonexistent/nvi.sock: libvirt says "Failed to connect socket to '/nonexistent/nvi.sock': No such file or directory"; check the URI, that libvirtd runs there, and that this user may use it`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	// Over ssh, ssh's complaint is what to act on (libvirt wraps it in
	// two messages of its own).
	err = connectError("qemu+ssh://nosuchhost/system", "Cannot recv data: ssh: Could not resolve hostname nosuchhost: Name or service not known: Connection reset by peer")
	want = `cannot connect to qemu+ssh://nosuchhost/system: ssh failed ("Could not resolve hostname nosuchhost: Name or service not known"); check the host name, that it is reachable, and that ssh to it works without a password prompt`
	if err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
