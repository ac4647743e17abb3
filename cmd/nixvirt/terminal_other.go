//go:build !linux && !nolibvirt

package main

import "os"

// ttyFile is a character device that is not /dev/null: a terminal, near
// enough where the Linux question cannot be asked.
func ttyFile(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && f.Name() != os.DevNull
}

func ttyColumns(*os.File) int { return 0 }
