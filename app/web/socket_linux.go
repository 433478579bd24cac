package web

import (
	"syscall"
	"unsafe"
)

// writeNow sends b on a non-blocking socket. It is made with RawSyscall,
// without telling the scheduler that a system call began, since it cannot
// block: at ten thousand writes a bid, the runtime's monitor otherwise
// keeps handing the processor of a goroutine "in a system call" to another
// thread. send(2) rather than write(2) skips the file layer's checks, and
// MSG_NOSIGNAL a SIGPIPE from a client that is gone.
func writeNow(fd uintptr, b []byte) (int, error) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
		syscall.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
