package noopmemo

import (
	"os"
	"syscall"
	"unsafe"
)

// Terminal reports whether f is a terminal, asking the terminal driver
// for its settings as isatty(3) does (the whole build's question).
func Terminal(f *os.File) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
