// Package handover lets one build of nixvirt give a command to another by
// exec: the same arguments, environment and streams, in the same process,
// so that the command's output, exit code and signals are the other
// build's own. nixvirt is installed as three builds of decreasing start-up
// cost (README, "Three builds"): `nixvirt` (cmd/nixvirt-front, no CUE and
// no libvirt) hands what it does not run to `nixvirt-cue` (cmd/nixvirt
// with -tags nolibvirt) or `nixvirt-libvirt` (the whole build), and
// nixvirt-cue hands the commands that connect to nixvirt-libvirt.
package handover

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"nixvirt.dev/nixvirt/internal/stdout"
)

// The builds' file names.
const (
	CUEName     = "nixvirt-cue"
	LibvirtName = "nixvirt-libvirt"
)

// EnvVar is set, in the environment of the build handed to, to the name
// it was handed to as (CUEName or LibvirtName). A build that would hand
// a command to the name it was itself run as is a mis-built copy (a
// nixvirt-libvirt built without libvirt, a nixvirt-cue that is the front)
// and says so instead of running itself again and again.
const EnvVar = "NIXVIRT_HANDED_OVER"

// HandedAs is the name this process was handed a command as, "" when it
// was run directly.
func HandedAs() string { return os.Getenv(EnvVar) }

// Self is this executable's path, symbolic links followed ("" when it
// cannot be known).
func Self() string {
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		return real
	}
	return self
}

// Find finds the build named name beside this executable (following
// symbolic links, as a Nix profile's bin/ is made of them), else on PATH;
// "" and no error when it is in neither.
func Find(name string) (string, error) {
	if self := Self(); self != "" {
		beside := filepath.Join(filepath.Dir(self), name)
		if st, err := os.Stat(beside); err == nil && !st.IsDir() {
			if st.Mode()&0o111 == 0 {
				// Installed but unusable: saying it is missing would
				// send the user looking for it.
				return "", fmt.Errorf("%s is not executable: chmod +x %s", beside, beside)
			}
			return beside, nil
		}
	}
	p, err := exec.LookPath(name)
	if errors.Is(err, exec.ErrNotFound) {
		return "", nil
	}
	return p, err
}

// Exec replaces this process with the build at path, handed args as
// name. It returns only when that cannot be done.
func Exec(path, name string, args []string) error {
	// The name this process was handed as, if any, is replaced: of two
	// the first would be read.
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, EnvVar+"=") {
			env = append(env, e)
		}
	}
	env = append(env, EnvVar+"="+name)
	// A stdout closed at start-up is closed for the other build too (Go's
	// runtime has put /dev/null there), so that it refuses to write to it.
	stdout.Reclose()
	err := syscall.Exec(path, append([]string{path}, args...), env)
	return fmt.Errorf("running %s: %w", path, err)
}
