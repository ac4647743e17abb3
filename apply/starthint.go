package apply

import (
	"fmt"
	"regexp"
)

// needsDRI matches what QEMU reports when a guest's 3D video (virtio with
// accel3d, SPICE with gl) finds no render node on the host. libvirt passes
// QEMU's text through under a generic error code, so the text is all
// there is to go by.
var needsDRI = regexp.MustCompile(`(?i)\b(dri|egl|render ?node|rendernode)\b`)

// startHint adds to a failure to start a domain the likely cause on a
// headless host: the templates' default virtio_video = true needs
// /dev/dri.
func startHint(err error) error {
	if err == nil || !needsDRI.MatchString(err.Error()) {
		return err
	}
	return fmt.Errorf("%w (3D video needs a GPU render node, /dev/dri: on a headless host set the template argument virtio_video to false or null, or remove the video's accel3d and the graphics' gl)", err)
}
