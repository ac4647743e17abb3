//go:build !nolibvirt

package main

import (
	"os"
	"syscall"
	"unsafe"
)

func ioctl(f *os.File, request uintptr, arg unsafe.Pointer) bool {
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), request, uintptr(arg))
	return errno == 0
}

// ttyFile asks the terminal driver for f's settings, as isatty(3) does.
func ttyFile(f *os.File) bool {
	var t syscall.Termios
	return ioctl(f, syscall.TCGETS, unsafe.Pointer(&t))
}

// ttyColumns is the width of the terminal f, 0 when it cannot say.
func ttyColumns(f *os.File) int {
	var ws struct{ Row, Col, X, Y uint16 }
	if !ioctl(f, syscall.TIOCGWINSZ, unsafe.Pointer(&ws)) {
		return 0
	}
	return int(ws.Col)
}
