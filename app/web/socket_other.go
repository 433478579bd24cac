//go:build !linux

package web

import "syscall"

// writeNow sends b on a non-blocking socket (see socket_linux.go).
func writeNow(fd uintptr, b []byte) (int, error) {
	return syscall.Write(int(fd), b)
}
