package web

// The write side of the auction WebSockets. A bid on an auction that ten
// thousand pages watch is ten thousand writes of one shared frame; a few
// pool goroutines make them without ever waiting on a client, and a client
// that reads slowly gets a goroutine of its own for as long as it lags.

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"

	"gavel/app/live"
)

// bidSocket serves one socket. Its goroutine reads (and ignores) what the
// page sends and answers pings; the hub's messages are written by the
// writer pool, so an idle socket costs this one goroutine only.
func (s *Server) bidSocket(c *websocket.Conn) {
	u, _ := c.Locals(localLiveUpgrade).(*upgrading)
	if u == nil || !u.claimed.CompareAndSwap(false, true) {
		return
	}
	s.hijacked.Add(1)
	defer s.hijacked.Add(-1)
	u.timer.Stop()
	defer u.release()
	sub := u.sub
	conn := c.Conn
	k := newSocket(tcpConn(conn.NetConn()), sub, s.writers)

	conn.SetReadLimit(wsReadLimit)
	conn.SetReadDeadline(time.Now().Add(wsReadWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(wsReadWait)) })
	conn.SetPingHandler(k.pong)
	conn.SetCloseHandler(k.closeReply)
	k.schedulePing()
	// Shutdown: close with 1012 so that htmx reconnects elsewhere.
	stopOnShutdown := context.AfterFunc(s.stopping, func() { sub.End(live.ErrClosed) })
	sub.Start(k.wake)
	for {
		// Nothing a page sends is acted on: bids go by POST, with CSRF.
		if _, _, err := conn.ReadMessage(); err != nil {
			break
		}
	}
	close(k.readerDone)
	// The page is gone or closing: a write still waiting on it fails now
	// rather than at its deadline.
	k.nc.Close()
	stopOnShutdown()
	if t := k.ping.Load(); t != nil {
		t.Stop()
	}
	sub.Close()
	// Wait for a write in progress, and let none start after: fasthttp
	// closes the connection once this returns.
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
}

// tcpConn is the connection under fasthttp's hijacked-connection wrapper:
// its writes are the wrapper's, but it hands net.Buffers to one writev,
// its descriptor can be written without waiting, and it is never handed
// to another request after the handler returns.
func tcpConn(nc net.Conn) net.Conn {
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		return u.UnsafeConn()
	}
	return nc
}

// socket is a WebSocket's write side. Every frame the server sends on it
// (messages, pings, pongs, close) is written here under mu, straight to
// the connection: the library's writer would move the connection's
// deadline (a runtime timer) on every write, which at ten thousand
// sockets a bid costs more than the frame. The library itself writes only
// when a page breaks the protocol (the close frame that answers it).
type socket struct {
	nc         net.Conn
	raw        syscall.RawConn // nc's descriptor; nil if it has none
	sub        *live.Sub
	pool       *writerPool
	readerDone chan struct{}

	mu     sync.Mutex // held while writing, and while a write is unfinished
	closed bool       // a close frame went, or the reader returned: write nothing more
	buf    []*live.Message
	out    net.Buffers // what is to be written; the rest of a frame the client did not take yet

	ping atomic.Pointer[time.Timer]
}

func newSocket(nc net.Conn, sub *live.Sub, pool *writerPool) *socket {
	k := &socket{nc: nc, sub: sub, pool: pool, readerDone: make(chan struct{})}
	if sc, ok := nc.(syscall.Conn); ok {
		k.raw, _ = sc.SyscallConn()
	}
	return k
}

// Frames (RFC 6455 5.2): unfragmented, unmasked, uncompressed.
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xa
)

// frame is one final frame of op with payload.
func frame(op byte, payload []byte) []byte {
	var h []byte
	switch n := len(payload); {
	case n <= 125:
		h = []byte{0x80 | op, byte(n)}
	case n <= 0xffff:
		h = binary.BigEndian.AppendUint16([]byte{0x80 | op, 126}, uint16(n))
	default:
		h = binary.BigEndian.AppendUint64([]byte{0x80 | op, 127}, uint64(n))
	}
	return append(h[:len(h):len(h)], payload...)
}

var pingFrame = frame(opPing, nil)

// closeFrame is a close frame with code, or none (1005: the page sent
// none).
func closeFrame(code int) []byte {
	if code == fws.CloseNoStatusReceived {
		return frame(opClose, nil)
	}
	return frame(opClose, binary.BigEndian.AppendUint16(nil, uint16(code)))
}

// textFrame is m as a text frame, built once for every socket that m is
// queued to.
func textFrame(m *live.Message) []byte {
	return m.Encoded(func(b []byte) any { return frame(opText, b) }).([]byte)
}

// send writes f, waiting for the client, unless the socket has closed.
func (k *socket) send(f []byte) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.out = append(k.out, f)
	return k.flush()
}

// schedulePing pings the page in wsPing, and again after each ping.
func (k *socket) schedulePing() {
	k.ping.Store(time.AfterFunc(wsPing, func() {
		if k.send(pingFrame) {
			k.schedulePing()
		}
	}))
}

// pong answers a page's ping (the library's handler would write it
// itself, possibly between the parts of a frame the client took only
// partly).
func (k *socket) pong(data string) error {
	if !k.send(frame(opPong, []byte(data))) {
		return net.ErrClosed
	}
	return nil
}

// closeReply answers a page's close frame with its code; the reader then
// ends.
func (k *socket) closeReply(code int, _ string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.out = append(k.out, closeFrame(code))
	k.flush()
	k.closed = true
	return nil
}

// flush writes k.out, waiting up to wsWriteWait for the client. k.mu is
// held. A failed write closes the connection: the reader then fails and
// cleans up.
func (k *socket) flush() bool {
	defer k.reset()
	if k.closed {
		return false
	}
	k.nc.SetWriteDeadline(time.Now().Add(wsWriteWait))
	bufs := k.out // WriteTo consumes its receiver
	if _, err := bufs.WriteTo(k.nc); err != nil {
		k.nc.Close()
		return false
	}
	// No deadline between writes: tryFlush never waits, and must not find
	// an old one passed.
	k.nc.SetWriteDeadline(time.Time{})
	return true
}

func (k *socket) reset() {
	clear(k.out)
	k.out = k.out[:0]
}

var errWouldWait = errors.New("web: the client has not taken the whole frame")

// tryFlush writes as much of k.out as the connection takes at once. k.mu
// is held. errWouldWait: the rest is still in k.out.
func (k *socket) tryFlush() error {
	if k.closed {
		k.reset()
		return net.ErrClosed
	}
	if k.raw == nil || len(k.out) != 1 {
		return errWouldWait // rare: let flush write them, waiting if need be
	}
	var n int
	var werr error
	err := k.raw.Write(func(fd uintptr) bool {
		for {
			n, werr = writeNow(fd, k.out[0])
			if werr != syscall.EINTR {
				return true // never wait here
			}
		}
	})
	if err == nil && werr != nil && werr != syscall.EAGAIN {
		err = werr
	}
	if err != nil {
		k.reset()
		k.nc.Close()
		return err
	}
	if n = max(n, 0); n < len(k.out[0]) {
		k.out[0] = k.out[0][n:]
		return errWouldWait
	}
	k.reset()
	return nil
}

// wake is the hub's signal that messages are queued or the subscription
// ended.
func (k *socket) wake() { k.pool.add(k) }

// tryDrain is a pool goroutine's turn at k: it writes what is queued if
// the client takes it at once, and otherwise leaves the rest to a
// goroutine of k's own.
func (k *socket) tryDrain() {
	if !k.mu.TryLock() {
		// A ping, or a write that is waiting for the client: the
		// messages are written after it.
		go func() { k.mu.Lock(); k.drain(true) }()
		return
	}
	k.drain(false)
}

// drain writes what is queued, several messages in one write, until the
// queue is empty, then unlocks k.mu, which the caller holds. With wait
// false it never waits for the client: what would wait (a frame the
// client did not take whole, the close handshake) goes on in a goroutine
// that keeps the lock.
func (k *socket) drain(wait bool) {
	for {
		msgs, ok := k.sub.Take(k.buf[:0])
		for _, m := range msgs {
			k.out = append(k.out, textFrame(m))
		}
		clear(msgs)
		k.buf = msgs[:0]
		if len(k.out) > 0 {
			var err error
			if !wait {
				err = k.tryFlush()
			} else if !k.flush() {
				err = net.ErrClosed
			}
			if err == errWouldWait {
				go k.drain(true)
				return
			}
			if err != nil {
				k.mu.Unlock()
				return
			}
		}
		if !ok {
			if !wait {
				go k.drain(true)
				return
			}
			k.end()
			k.mu.Unlock()
			return
		}
		if len(msgs) == 0 {
			k.mu.Unlock()
			return
		}
	}
}

// end closes the socket the way its subscription ended: 1013 when it fell
// behind (reconnect and resynchronise), 1012 when the server goes. It
// sends the close frame and gives the page a moment to answer before the
// connection goes, so the frame is read rather than lost to a reset. k.mu
// is held; it is let go while waiting.
func (k *socket) end() {
	code := 0
	switch k.sub.Err() {
	case live.ErrSlow:
		code = closeTryAgainLater
	case live.ErrClosed:
		code = closeServiceRestart
	default:
		return // closed by the reader
	}
	k.out = append(k.out, closeFrame(code))
	if !k.flush() {
		return
	}
	k.closed = true // nothing follows a close frame
	k.mu.Unlock()
	defer k.mu.Lock()
	select {
	case <-k.readerDone:
	case <-time.After(2 * time.Second):
		k.nc.Close()
	}
}

// writerPool writes the sockets' messages: a few goroutines take woken
// sockets off one list, rather than one new goroutine per socket per
// message. They start with a burst and end when the list is empty.
type writerPool struct {
	max int

	mu      sync.Mutex
	ready   []*socket
	running int
}

// writeBatch is how many sockets a pool goroutine takes off the list at
// once.
const writeBatch = 64

func newWriterPool() *writerPool {
	return &writerPool{max: runtime.GOMAXPROCS(0)}
}

func (p *writerPool) add(k *socket) {
	p.mu.Lock()
	p.ready = append(p.ready, k)
	start := p.running < p.max
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go p.run()
	}
}

func (p *writerPool) run() {
	batch := make([]*socket, 0, writeBatch)
	for {
		p.mu.Lock()
		n := min(len(p.ready), writeBatch)
		if n == 0 {
			p.ready = nil
			p.running--
			p.mu.Unlock()
			return
		}
		batch = append(batch, p.ready[:n]...)
		clear(p.ready[:n])
		p.ready = p.ready[n:]
		p.mu.Unlock()
		for _, k := range batch {
			k.tryDrain()
		}
		clear(batch)
		batch = batch[:0]
	}
}
