package web

import (
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// connLimitListener caps the open connections of each peer (an IPv4
// address, or an IPv6 /64). fasthttp's own MaxConnsPerIP counts IPv4 only,
// and its wrapper panics when a hijacked connection is closed twice (the
// streams close theirs, then fasthttp does).
type connLimitListener struct {
	net.Listener
	max int

	mu sync.Mutex
	n  map[netip.Prefix]int
}

func newConnLimitListener(ln net.Listener, max int) *connLimitListener {
	return &connLimitListener{Listener: ln, max: max, n: map[netip.Prefix]int{}}
}

// tooManyConns is the whole answer to a connection over the cap.
var tooManyConns = []byte("HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")

// Accept returns the next connection within its peer's cap; one over it is
// answered 429 and closed.
func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, ok := peerBucket(c.RemoteAddr())
		if !ok {
			return c, nil
		}
		if l.acquire(key) {
			return &limitedConn{Conn: c, release: sync.OnceFunc(func() { l.release(key) })}, nil
		}
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(tooManyConns)
		c.Close()
	}
}

func (l *connLimitListener) acquire(key netip.Prefix) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[key] >= l.max {
		return false
	}
	l.n[key]++
	return true
}

func (l *connLimitListener) release(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[key] <= 1 {
		delete(l.n, key)
		return
	}
	l.n[key]--
}

// peerBucket is the counting bucket of a peer address: the address itself
// for IPv4, its /64 for IPv6.
func peerBucket(a net.Addr) (netip.Prefix, bool) {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p, true
}

// limitedConn gives its peer's slot back on the first Close.
type limitedConn struct {
	net.Conn
	release func()
}

// Close closes the connection and frees its slot; closing again is
// harmless.
func (c *limitedConn) Close() error {
	c.release()
	return c.Conn.Close()
}

// SyscallConn exposes the descriptor, for the socket writer's direct
// writes.
func (c *limitedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, syscall.EINVAL
}
