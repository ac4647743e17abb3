//go:build cgo

package stdout

/*
#include <errno.h>
#include <fcntl.h>

// stdoutClosed is set by a constructor, which runs before Go's runtime
// opens /dev/null on a closed descriptor 1.
static int stdoutClosed;

__attribute__((constructor)) static void nixvirtCheckStdout(void) {
	stdoutClosed = fcntl(1, F_GETFD) < 0 && errno == EBADF;
}

static int nixvirtStdoutClosed(void) { return stdoutClosed; }
*/
import "C"

var wasClosed = C.nixvirtStdoutClosed() != 0
