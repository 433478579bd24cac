package auction

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// Bidder places bids. A bid needs the auction's row lock, and a lock held
// through each commit's fsync caps a one-bid-per-transaction design at one
// fsync per bid. So each process runs one writer goroutine per auction that
// has bids waiting: it takes every bid queued for its auction (up to
// MaxBatch), judges them in arrival order in ONE transaction, commits, and
// only then answers each caller. Writers start on demand and stop when idle.
//
// Correctness never depends on the writer being the only one: every batch
// holds the auction's row lock, so writers of other processes simply take
// turns with it.
type Bidder struct {
	db       *bun.DB
	log      *slog.Logger
	idle     time.Duration
	maxBatch int

	mu      sync.Mutex
	writers map[int64]*writer // by auction id
	closed  bool
	wg      sync.WaitGroup
}

// BidderOptions tunes a Bidder; zero values take the defaults.
type BidderOptions struct {
	// Idle is how long a writer waits for another bid before it exits
	// (default 2 s): long enough to stay up through a bidding war, short
	// enough that quiet auctions cost nothing.
	Idle time.Duration
	// MaxBatch caps the bids in one transaction (default 128), which bounds
	// the locks it holds and the size of its statements.
	MaxBatch int
	// Logger receives failures of whole batches (default: discarded).
	Logger *slog.Logger
}

// batchTimeout bounds one batch's transaction. It is not the callers'
// context: once a bid is taken into a batch its caller gets the real
// outcome, so a caller leaving must not abort the others' transaction.
const batchTimeout = 30 * time.Second

// NewBidder returns a Bidder writing to db. Call Close on shutdown.
func NewBidder(db *bun.DB, opts BidderOptions) *Bidder {
	if opts.Idle <= 0 {
		opts.Idle = 2 * time.Second
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 128
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Bidder{db: db, log: opts.Logger, idle: opts.Idle, maxBatch: opts.MaxBatch, writers: map[int64]*writer{}}
}

type writer struct {
	auctionID int64
	queue     []*request    // guarded by Bidder.mu
	wake      chan struct{} // capacity 1: a pending wake-up is enough
}

type request struct {
	in    BidInput
	ctx   context.Context
	taken bool // guarded by Bidder.mu: in a batch, the caller must wait for its outcome
	done  chan result
}

type result struct {
	bid Bid
	err error
}

// PlaceBid judges a bid by every rule and, when it is accepted, returns it
// committed: durable, and announced on Channel. A refusal is an *Error
// (ErrTooLow, ErrEnded, …) and leaves no trace. If ctx ends while the bid
// still waits in the queue it is withdrawn and ctx's error returned; once
// its batch has begun the outcome is awaited whatever ctx does.
func (b *Bidder) PlaceBid(ctx context.Context, in BidInput) (Bid, error) {
	if err := in.check(); err != nil {
		return Bid{}, err
	}
	if in.AuctionID <= 0 {
		return Bid{}, ErrNotFound
	}
	if err := ctx.Err(); err != nil {
		return Bid{}, err
	}
	req := &request{in: in, ctx: ctx, done: make(chan result, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return Bid{}, ErrClosed
	}
	w := b.writers[in.AuctionID]
	if w == nil {
		w = &writer{auctionID: in.AuctionID, wake: make(chan struct{}, 1)}
		b.writers[in.AuctionID] = w
		b.wg.Add(1)
		go b.run(w)
	}
	w.queue = append(w.queue, req)
	b.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}

	select {
	case r := <-req.done:
		return r.bid, r.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	if !req.taken {
		// A writer never exits with bids queued, so w still owns req, or
		// already dropped it for its cancelled context.
		if i := slices.Index(w.queue, req); i >= 0 {
			w.queue = slices.Delete(w.queue, i, i+1)
		}
		b.mu.Unlock()
		return Bid{}, ctx.Err()
	}
	b.mu.Unlock()
	r := <-req.done
	return r.bid, r.err
}

// Close stops taking bids, lets every writer commit and answer the bids
// already queued, and waits for them to exit.
func (b *Bidder) Close() {
	b.mu.Lock()
	b.closed = true
	for _, w := range b.writers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// run is one auction's writer.
func (b *Bidder) run(w *writer) {
	defer b.wg.Done()
	idle := time.NewTimer(b.idle)
	defer idle.Stop()
	for {
		b.mu.Lock()
		batch := b.take(w)
		if len(batch) == 0 {
			if b.closed {
				delete(b.writers, w.auctionID)
				b.mu.Unlock()
				return
			}
			b.mu.Unlock()
			idle.Reset(b.idle)
			select {
			case <-w.wake:
			case <-idle.C:
				// Exit only under the lock with nothing queued: PlaceBid
				// then finds no writer and starts a new one.
				b.mu.Lock()
				if len(w.queue) == 0 {
					delete(b.writers, w.auctionID)
					b.mu.Unlock()
					return
				}
				b.mu.Unlock()
			}
			continue
		}
		b.mu.Unlock()
		results := b.commit(w.auctionID, batch)
		for i, req := range batch {
			req.done <- results[i]
		}
	}
}

// take removes up to maxBatch live requests from w's queue and marks them
// taken; requests whose caller has gone are dropped. b.mu must be held.
func (b *Bidder) take(w *writer) []*request {
	var batch []*request
	n := 0
	for _, req := range w.queue {
		if len(batch) == b.maxBatch {
			break
		}
		n++
		if req.ctx.Err() != nil {
			continue
		}
		req.taken = true
		batch = append(batch, req)
	}
	rest := copy(w.queue, w.queue[n:])
	clear(w.queue[rest:])
	w.queue = w.queue[:rest]
	if rest == 0 {
		w.queue = nil // let a burst's backing array go
	}
	return batch
}

// commit runs one batch, retrying it once when PostgreSQL aborted it for a
// deadlock or serialization failure. Should the batch fail for any other
// reason, its bids are tried one by one so that a single bad one cannot
// take the others down with it.
func (b *Bidder) commit(auctionID int64, batch []*request) []result {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	res, err := b.attempt(ctx, auctionID, batch)
	if err == nil {
		return res
	}
	b.log.Error("bid batch failed", "auction", auctionID, "bids", len(batch), "err", err)
	res = make([]result, len(batch))
	if len(batch) == 1 {
		res[0].err = err
		return res
	}
	for i := range batch {
		one, err := b.attempt(ctx, auctionID, batch[i:i+1])
		if err != nil {
			res[i].err = err
			continue
		}
		res[i] = one[0]
	}
	return res
}

func (b *Bidder) attempt(ctx context.Context, auctionID int64, batch []*request) ([]result, error) {
	res, err := b.runBatch(ctx, auctionID, batch)
	if err != nil && retryable(err) {
		res, err = b.runBatch(ctx, auctionID, batch)
	}
	return res, err
}
