//go:build !linux

package noopmemo

import "os"

// Terminal is a character device that is not /dev/null, as the whole
// build tells one where the Linux question cannot be asked.
func Terminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && f.Name() != os.DevNull
}
