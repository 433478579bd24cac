//go:build linux

package web_test

// The fan-out benchmark's clients: WebSocket connections watched by one
// epoll loop, with no goroutine per connection.
//
// Rounds (one bid each) alternate between two ways of counting:
//
//   - arrival: a row counts as arrived when the client's kernel has it,
//     when the socket turns readable (a 1.2 KB frame crosses loopback as
//     one segment, so that is the whole frame). The frames are read and
//     checked after the round, before the next bid. The tool shares the
//     two cores with the server, and real pages read on machines of their
//     own.
//   - read: the loop reads and checks each frame as it comes, and it
//     counts as arrived when read. Those reads compete with the server.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gavel/app/auction"
	"gavel/views"
)

// batchWait: when few sockets turned readable at once, the loop waits
// this long before its next epoll_wait, so that it wakes once per batch
// rather than once per frame (the server's write pays for each wake-up).
// It can only make a frame count as later.
const batchWait = 200 * time.Microsecond

// epollET is EPOLLET as the uint32 that EpollEvent.Events is.
const epollET = 1 << 31

// wsClients are n sockets on one WebSocket URL, each past its first
// message.
type wsClients struct {
	epfd int
	fds  []int
	stop atomic.Bool
	loop sync.WaitGroup

	cur     atomic.Pointer[round] // nil between rounds
	rounds  int32
	at      []time.Duration // when socket i's frame of the current round arrived
	seen    []int32         // the round socket i's frame last arrived in
	partial [][]byte        // the start of a frame not all read yet

	lat   [2][]time.Duration // every round's, every socket's: [arrival, read]
	wrong atomic.Int64       // frames that were not the round's row, or not whole
	lost  atomic.Int64       // sockets closed during a round
}

// round is one bid: every socket is to receive one frame holding want.
type round struct {
	n    int32
	read bool // the loop reads each frame as it comes
	t0   time.Time
	want []byte
	wg   sync.WaitGroup
}

// dialWSClients opens n sockets to path on addr (127.0.0.1:port) with
// origin, and starts watching them.
func dialWSClients(b *testing.B, addr, path, origin string, n int) *wsClients {
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13" +
		"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: " + origin + "\r\n\r\n")
	w := &wsClients{epfd: -1, at: make([]time.Duration, n), seen: make([]int32, n), partial: make([][]byte, n)}
	w.fds = dialMany(b, n, func(int) (int, error) { return dialRawWS(addr, req) })
	b.Cleanup(w.Close)
	var err error
	if w.epfd, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC); err != nil {
		b.Fatal(err)
	}
	for i, fd := range w.fds {
		// Edge-triggered: a frame left unread until the round ends is
		// reported once, when it arrives.
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: int32(i)}
		if err := syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			b.Fatal(err)
		}
	}
	w.loop.Add(1)
	go w.watch()
	return w
}

// dialRawWS connects, upgrades and reads the first message through a
// net.Conn, then hands a duplicate of its descriptor to the loop (closing
// the original takes it out of Go's netpoller).
func dialRawWS(addr string, req []byte) (int, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return -1, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(req); err != nil {
		return -1, err
	}
	var got []byte
	buf := make([]byte, 16<<10)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return -1, err
		}
		got = append(got, buf[:n]...)
		end := bytes.Index(got, []byte("\r\n\r\n"))
		if end < 0 {
			continue
		}
		if !bytes.HasPrefix(got, []byte("HTTP/1.1 101 ")) {
			return -1, fmt.Errorf("load: upgrade refused: %q", got[:end])
		}
		_, _, rest := nextFrame(got[end+4:])
		if rest == nil {
			continue // the first sync has not all arrived
		}
		if len(rest) > 0 {
			// The server sends nothing more until a bid.
			return -1, errors.New("load: more than the first message before any bid")
		}
		break
	}
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	raw.Control(func(s uintptr) {
		if fd, err = syscall.Dup(int(s)); err == nil {
			syscall.CloseOnExec(fd)
		}
	})
	return fd, err
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// nextFrame splits one whole server frame (unmasked) off b: its opcode,
// its payload and what follows. rest is nil when b holds no whole frame.
func nextFrame(b []byte) (op byte, payload, rest []byte) {
	if len(b) < 2 {
		return 0, nil, nil
	}
	op = b[0] & 0x0f
	n, h := uint64(b[1]&0x7f), 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil, nil
		}
		n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil, nil
		}
		n, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	if uint64(len(b)-h) < n {
		return 0, nil, nil
	}
	end := h + int(n)
	return op, b[h:end], b[end:]
}

// watch notes when each socket's frame arrives, until Close.
func (w *wsClients) watch() {
	defer w.loop.Done()
	events := make([]syscall.EpollEvent, 512)
	buf := make([]byte, 64<<10)
	for !w.stop.Load() {
		n, err := syscall.EpollWait(w.epfd, events, 50)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return
		}
		// What is ready now arrived before this instant.
		r := w.cur.Load()
		var at time.Duration
		if r != nil {
			at = time.Since(r.t0)
		}
		for _, ev := range events[:n] {
			i := int(ev.Fd)
			if ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
				syscall.EpollCtl(w.epfd, syscall.EPOLL_CTL_DEL, w.fds[i], nil)
				if r != nil {
					w.lost.Add(1)
				}
				continue
			}
			if r == nil || !r.read {
				w.arrived(r, i, at)
				continue
			}
			data, err := w.readAll(i, buf)
			if err != nil {
				if r != nil {
					w.lost.Add(1)
				}
				continue
			}
			w.frames(i, data, func(payload []byte) {
				if !bytes.Contains(payload, r.want) {
					w.wrong.Add(1)
				}
				w.arrived(r, i, at)
			})
		}
		if n < 64 {
			time.Sleep(batchWait)
		}
	}
}

// arrived notes socket i's frame of round r (nil: between rounds).
func (w *wsClients) arrived(r *round, i int, at time.Duration) {
	if r == nil || w.seen[i] == r.n {
		return
	}
	w.seen[i] = r.n
	w.at[i] = at
	r.wg.Done()
}

// readAll reads what socket i holds, after what an earlier read left of a
// frame.
func (w *wsClients) readAll(i int, buf []byte) ([]byte, error) {
	data := w.partial[i]
	w.partial[i] = nil
	for {
		m, err := syscall.Read(w.fds[i], buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return data, nil
		case err != nil:
			return nil, err
		case m == 0:
			return nil, errors.New("load: closed")
		}
		data = append(data, buf[:m]...)
	}
}

// frames hands each text frame in data to text, answers pings, and keeps
// the start of a frame that has not all arrived. It reports whether data
// held a ping.
func (w *wsClients) frames(i int, data []byte, text func(payload []byte)) (pinged bool) {
	for {
		op, payload, rest := nextFrame(data)
		if rest == nil {
			if len(data) > 0 {
				w.partial[i] = bytes.Clone(data)
			}
			return pinged
		}
		data = rest
		switch op {
		case 0x1:
			text(payload)
		case 0x9: // answered with a masked pong (mask 0)
			pinged = true
			writeAll(w.fds[i], append([]byte{0x8a, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...))
		}
	}
}

// expect starts a round: every socket is to receive one frame holding
// want; read: the loop reads each as it comes.
func (w *wsClients) expect(want []byte, read bool) *round {
	w.rounds++
	r := &round{n: w.rounds, read: read, want: want}
	r.wg.Add(len(w.fds))
	r.t0 = time.Now()
	w.cur.Store(r)
	return r
}

// finish ends round r once every socket's frame arrived: it reads and
// checks the frames that the loop did not, and keeps the latencies.
func (w *wsClients) finish(r *round) {
	w.cur.Store(nil)
	if !r.read {
		buf := make([]byte, 64<<10)
		for i := range w.fds {
			data, err := w.readAll(i, buf)
			if err != nil {
				w.lost.Add(1)
				continue
			}
			texts := 0
			pinged := w.frames(i, data, func(payload []byte) {
				texts++
				if !bytes.Contains(payload, r.want) {
					w.wrong.Add(1)
				}
			})
			if texts != 1 || w.partial[i] != nil {
				w.wrong.Add(1)
			}
			if pinged {
				// The readiness may have been the ping's: count the frame
				// as arriving now, which is surely no earlier.
				w.at[i] = time.Since(r.t0)
			}
		}
	}
	k := 0
	if r.read {
		k = 1
	}
	w.lat[k] = append(w.lat[k], w.at...)
}

// Close stops the loop and closes every socket. It is safe to call more
// than once.
func (w *wsClients) Close() {
	w.stop.Store(true)
	w.loop.Wait()
	if w.epfd >= 0 {
		syscall.Close(w.epfd)
		w.epfd = -1
	}
	for _, fd := range w.fds {
		syscall.Close(fd)
	}
	w.fds = nil
}

func BenchmarkFanout100(b *testing.B)   { benchFanout(b, 100) }
func BenchmarkFanout1000(b *testing.B)  { benchFanout(b, 1000) }
func BenchmarkFanout10000(b *testing.B) { benchFanout(b, 10000) }

// benchFanout measures, per bid, the time from handing it to the auction
// service (its commit included) to its row arriving on each of n sockets
// of one auction; one bid at a time. p50-ms and p99-ms count arrival in
// the client's kernel; read-p50-ms and read-p99-ms, from the rounds in
// between, count when the tool has read the frame (see wsClients).
func benchFanout(b *testing.B, n int) {
	raiseFileLimit()
	f := newBenchFixture(b, 1)
	srv := startBenchServer(b, f.url)
	id := f.auctions[0]
	clients := dialWSClients(b, srv.addr, fmt.Sprintf("/auctions/%d/ws", id), srv.url, n)
	bidder := auction.NewBidder(f.db, auction.BidderOptions{})
	defer bidder.Close()
	amount := int64(1000)
	var lastBid int64
	if err := f.db.QueryRow(`SELECT COALESCE(max(id), 0) FROM bids`).Scan(&lastBid); err != nil {
		b.Fatal(err)
	}
	bids := 0
	cpu0, sys0 := srv.cpu(b)
	tool0, _ := processCPU(b, os.Getpid())
	for b.Loop() {
		// The bid's id is known once it commits, and its row may arrive
		// before PlaceBid returns: expect the next id (nobody else bids).
		r := clients.expect([]byte(`id="`+views.BidRowID(lastBid+1)+`"`), bids%2 == 1)
		placed, err := bidder.PlaceBid(context.Background(), auction.BidInput{AuctionID: id,
			BidderID: f.bidders[bids%2], Amount: amount})
		if err != nil {
			b.Fatal(err)
		}
		lastBid = placed.Bids[len(placed.Bids)-1].ID
		bids++
		amount += auction.Increment(amount)
		done := make(chan struct{})
		go func() { r.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			b.Fatalf("bid %d: not every socket got it (%d lost)", bids, clients.lost.Load())
		}
		clients.finish(r)
	}
	b.StopTimer()
	cpu1, sys1 := srv.cpu(b)
	serverCPU, serverSys := cpu1-cpu0, sys1-sys0
	tool1, _ := processCPU(b, os.Getpid())
	clients.Close()
	if w := clients.wrong.Load(); w > 0 {
		b.Fatalf("%d messages were not the bid's row", w)
	}
	if l := clients.lost.Load(); l > 0 {
		b.Fatalf("%d sockets closed during a round", l)
	}
	for k, lat := range clients.lat {
		if want := n * ((bids + 1 - k) / 2); len(lat) != want {
			b.Fatalf("%d latencies, want %d", len(lat), want)
		}
		slices.Sort(lat)
	}
	pct := func(lat []time.Duration, p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	arrival, read := clients.lat[0], clients.lat[1]
	b.ReportMetric(pct(arrival, 0.50), "p50-ms")
	b.ReportMetric(pct(arrival, 0.99), "p99-ms")
	if len(read) > 0 {
		b.ReportMetric(pct(read, 0.50), "read-p50-ms")
		b.ReportMetric(pct(read, 0.99), "read-p99-ms")
	}
	b.ReportMetric(float64(bids), "bids")
	b.ReportMetric(float64(serverCPU.Microseconds())/1000/float64(bids), "server-cpu-ms/bid")
	b.ReportMetric(float64(serverSys.Microseconds())/1000/float64(bids), "server-sys-ms/bid")
	// The load tool's own CPU: the bidder, the loop and the reads after
	// each round.
	b.ReportMetric(float64((tool1-tool0).Microseconds())/1000/float64(bids), "tool-cpu-ms/bid")
}
