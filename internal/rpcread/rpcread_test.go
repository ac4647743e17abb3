package rpcread

import (
	"errors"
	"testing"
)

func TestUUID(t *testing.T) {
	const s = "7e2e0000-0000-4000-8000-0000000000c1"
	u, err := parseUUID(s)
	if err != nil || uuidString(u) != s {
		t.Fatalf("parseUUID(%q) = %s, %v", s, uuidString(u), err)
	}
	if u2, err := parseUUID("7e2e0000000040008000" + "0000000000c1"); err != nil || u2 != u {
		t.Errorf("the form without dashes: %s, %v", uuidString(u2), err)
	}
	for _, bad := range []string{"", "7e2e", "7e2e0000-0000-4000-8000-0000000000zz", s + "00"} {
		if _, err := parseUUID(bad); err == nil {
			t.Errorf("parseUUID(%q) took it", bad)
		}
	}
}

// TestUnsupported: URIs whose socket this package cannot tell as
// libvirt's client would are left to libvirt.
func TestUnsupported(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	for _, uri := range []string{"test:///default", "qemu+ssh://host/system", "qemu:///system?socket=/tmp/s", "qemu:///session", "lxc:///system", ""} {
		if _, err := socketOf(uri); !errors.Is(err, ErrUnsupported) {
			t.Errorf("socketOf(%q): %v", uri, err)
		}
	}
}
