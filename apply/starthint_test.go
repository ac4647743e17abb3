package apply

import (
	"errors"
	"strings"
	"testing"
)

func TestStartHint(t *testing.T) {
	for _, c := range []struct {
		message string
		hinted  bool
	}{
		{"internal error: qemu unexpectedly closed the monitor: egl: no drm render node available", true},
		{"unable to open /dev/dri/renderD128: No such file or directory", true},
		{"internal error: process exited while connecting to monitor: Could not open rendernode", true},
		{"Cannot access storage file '/var/lib/vms/x.qcow2': No such file or directory", false},
		{"network 'default' is not active", false},
	} {
		err := startHint(errors.New(c.message))
		if got := strings.Contains(err.Error(), "virtio_video"); got != c.hinted {
			t.Errorf("startHint(%q) = %q: hint %v, want %v", c.message, err, got, c.hinted)
		}
	}
	if startHint(nil) != nil {
		t.Error("startHint(nil) is not nil")
	}
}
