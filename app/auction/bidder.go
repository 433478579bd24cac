package auction

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/db"
	"gavel/app/metrics"
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
	rules    SoftClose
	metrics  metrics.Engine
	// fast counts the bids refused from a state seen, without a
	// transaction; batches counts the transactions run.
	fast, batches atomic.Int64
	// beforeWrite, when set (by tests), runs between judging a batch and
	// its last round trip (the write and COMMIT), with every lock held.
	beforeWrite func()

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
	// SoftClose is the anti-sniping rule; zero turns it off.
	SoftClose SoftClose
	// Metrics receives each batch's size and time and each refusal's
	// reason (default: discarded).
	Metrics metrics.Engine
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
	if opts.Metrics == nil {
		opts.Metrics = metrics.Discard
	}
	return &Bidder{db: db, log: opts.Logger, idle: opts.Idle, maxBatch: opts.MaxBatch, rules: opts.SoftClose,
		metrics: opts.Metrics, writers: map[int64]*writer{}}
}

type writer struct {
	auctionID int64
	queue     []*request    // guarded by Bidder.mu
	wake      chan struct{} // capacity 1: a pending wake-up is enough
	seen      seen          // guarded by Bidder.mu
}

// seen is the latest state of an auction its writer saw committed. Prices
// never fall and closed auctions never reopen, so a bid it already
// refuses is refused by every later state too: such a bid is answered
// without a transaction.
type seen struct {
	ok       bool
	closed   bool
	bought   bool // closed by a purchase
	price    int64
	count    int
	minNext  int64
	leaderID int64
	sellerID int64
}

// refuses returns the refusal of in that is certain from s, or nil. A
// leader's raise must exceed their maximum, which is at least the price;
// anyone else's maximum must reach the minimum: so a maximum at or below
// a price seen (below the start, before any bid) is refused whoever leads
// now. The seen leader and the seller are let through, so that the judge
// answers them with their own reasons, and so is a keyed submission: it may
// be the retry of one that committed, answered from its key.
func (s seen) refuses(in BidInput) error {
	switch {
	case !s.ok || in.BidderID == s.leaderID || in.BidderID == s.sellerID || in.Key != "" || in.Buy:
		return nil
	case s.closed && s.bought:
		return ErrBought
	case s.closed:
		return ErrEnded
	case s.count == 0 && in.Amount < s.minNext:
		return withAmount(ErrBelowStart, s.minNext)
	case s.count > 0 && in.Amount <= s.price:
		return withAmount(ErrTooLow, s.minNext)
	}
	return nil
}

func (w *writer) seenRefusal(in BidInput) error {
	if w == nil {
		return nil
	}
	return w.seen.refuses(in)
}

// saw records l, as read under its lock or committed, for the fast
// refusals of the auction's writer.
func (b *Bidder) saw(l *Lot) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w := b.writers[l.ID]; w != nil && (!w.seen.ok || l.BidCount >= w.seen.count) {
		w.seen = seen{ok: true, closed: l.Status != StatusOpen || l.EndReason != "", bought: l.EndReason == ReasonBought, price: l.Price, count: l.BidCount,
			minNext: l.MinNext(), leaderID: l.LeaderID, sellerID: l.SellerID}
	}
}

type request struct {
	in    BidInput
	ctx   context.Context
	taken bool // guarded by Bidder.mu: in a batch, the caller must wait for its outcome
	done  chan result
}

type result struct {
	placed Placed
	rows   int // how many of the batch's rows are this request's
	err    error
	copyOf int // 1 + the index of the request this one repeats (same key); 0 for none
}

// Placed is what an accepted submission did.
type Placed struct {
	Result Result
	// Bids are the rows it added, in order: none when the leader raised
	// their maximum, one or two otherwise (the second may be an automatic
	// bid answering it). A repeated submission (same form key) is answered
	// as the first time, without its rows.
	Bids []Bid `json:"-"`
	// Max is the bidder's maximum: theirs alone to see.
	Max      int64
	Price    int64 // the price after it
	MinNext  int64 // the least a bidder who does not lead may submit now
	Leading  bool  // the bidder leads
	EndsAt   time.Time
	Extended bool // it moved the end (soft close)
}

// PlaceBid judges a maximum by every rule and, when it is accepted, returns
// what it did, committed: durable, and announced on Channel. A refusal is an
// *Error (ErrTooLow, ErrEnded, …) and leaves no trace. If ctx ends while the
// bid still waits in the queue it is withdrawn and ctx's error returned;
// once its batch has begun the outcome is awaited whatever ctx does.
func (b *Bidder) PlaceBid(ctx context.Context, in BidInput) (Placed, error) {
	p, err := b.placeBid(ctx, in)
	if r := refusalReason(err); r != "" {
		b.metrics.BidRefused(r)
	}
	return p, err
}

// refusalReason labels a refusal for the metrics ("too_low" for
// bid.too_low, "buy_gone" for buy.gone); "" for an outcome that is not
// one (success, cancellation, a failure of the database).
func refusalReason(err error) string {
	var ae *Error
	if !errors.As(err, &ae) || errors.Is(err, ErrClosed) || errors.Is(err, ErrUnconfirmed) {
		return ""
	}
	return strings.ReplaceAll(strings.TrimPrefix(ae.Key(), "bid."), ".", "_")
}

func (b *Bidder) placeBid(ctx context.Context, in BidInput) (Placed, error) {
	if err := in.check(); err != nil {
		return Placed{}, err
	}
	if in.AuctionID <= 0 {
		return Placed{}, ErrNotFound
	}
	if err := ctx.Err(); err != nil {
		return Placed{}, err
	}
	req := &request{in: in, ctx: ctx, done: make(chan result, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return Placed{}, ErrClosed
	}
	w := b.writers[in.AuctionID]
	if err := w.seenRefusal(in); err != nil {
		b.mu.Unlock()
		b.fast.Add(1)
		return Placed{}, err
	}
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
		return r.placed, r.err
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
		return Placed{}, ctx.Err()
	}
	b.mu.Unlock()
	r := <-req.done
	return r.placed, r.err
}

// BuyNow buys auction auctionID for buyerID at its Buy It Now price, price
// (the one the buyer confirmed), through the auction's writer: judged in
// arrival order with the bids, so the first of a bid and a purchase wins
// and the other is refused. Accepted, the auction is sold and settled,
// committed, before it returns (Result Bought). key is the confirmation
// form's one-time key (optional), as for bids.
func (b *Bidder) BuyNow(ctx context.Context, auctionID, buyerID, price int64, key string) (Placed, error) {
	return b.PlaceBid(ctx, BidInput{AuctionID: auctionID, BidderID: buyerID, Amount: price, Key: key, Buy: true})
}

// PlaceRun judges ins, all on auction auctionID, in their order in one
// transaction, as the writer does with a batch that arrived in that order,
// and returns each one's outcome or refusal. It is for tools and tests
// that need many bids committed at once (at most MaxBatch make one
// transaction; the writer's pacing does not apply).
func (b *Bidder) PlaceRun(auctionID int64, ins []BidInput) ([]Placed, []error) {
	batch := make([]*request, 0, len(ins))
	placed, errs := make([]Placed, len(ins)), make([]error, len(ins))
	idx := make([]int, 0, len(ins))
	for i, in := range ins {
		in.AuctionID = auctionID
		if err := in.check(); err != nil {
			errs[i] = err
			continue
		}
		batch = append(batch, &request{in: in, ctx: context.Background()})
		idx = append(idx, i)
	}
	for len(batch) > 0 {
		n := min(len(batch), b.maxBatch)
		for k, r := range b.commit(auctionID, batch[:n]) {
			placed[idx[k]], errs[idx[k]] = r.placed, r.err
		}
		batch, idx = batch[n:], idx[n:]
	}
	return placed, errs
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
// taken; requests whose caller has gone are dropped. A request the state
// last seen committed certainly refuses (it queued while that state's batch
// was committing) is answered at once: a batch of only such bids would
// take the locks for nothing, and under a bidding war every other batch
// would be one. b.mu must be held.
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
		if err := w.seen.refuses(req.in); err != nil {
			b.fast.Add(1)
			req.done <- result{err: err}
			continue
		}
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
// deadlock or serialization failure. A batch whose COMMIT may or may not
// have taken effect is found out, never judged again blindly: a bid in the
// table must not be answered "too low". Should the batch fail for any
// other reason, its bids are tried one by one so that a single bad one
// cannot take the others down with it.
func (b *Bidder) commit(auctionID int64, batch []*request) []result {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	began := time.Now()
	res, err := b.attempt(ctx, auctionID, batch)
	b.metrics.BidBatch(len(batch), time.Since(began))
	if err == nil {
		return res
	}
	b.log.Error("bid batch failed", "auction", auctionID, "bids", len(batch), "err", err)
	var uc *errUnconfirmed
	if errors.As(err, &uc) {
		return b.confirm(ctx, auctionID, batch, uc)
	}
	res = make([]result, len(batch))
	if len(batch) == 1 || db.Unavailable(err) {
		// One bid, or a database that is not answering: trying the bids
		// one by one would only make each wait again.
		for i := range res {
			res[i].err = err
		}
		return res
	}
	for i := range batch {
		one, err := b.attempt(ctx, auctionID, batch[i:i+1])
		if errors.As(err, &uc) {
			one = b.confirm(ctx, auctionID, batch[i:i+1], uc)
			err = nil
		}
		if err != nil {
			res[i].err = err
			continue
		}
		res[i] = one[0]
	}
	return res
}

// confirm finds out whether a batch whose COMMIT failed took effect, and
// answers from what the database holds: its results if it committed, a
// new attempt if it certainly did not, ErrUnconfirmed while nobody can
// tell (the database unreachable until ctx ends).
func (b *Bidder) confirm(ctx context.Context, auctionID int64, batch []*request, uc *errUnconfirmed) []result {
	wait := 50 * time.Millisecond
	for {
		done, ids, err := b.committed(ctx, auctionID, uc)
		switch {
		case err == nil && done:
			return uc.answer(ids)
		case err == nil:
			res, err := b.attempt(ctx, auctionID, batch)
			if err == nil {
				return res
			}
			if errors.As(err, &uc) {
				continue
			}
			b.log.Error("bid batch failed again", "auction", auctionID, "err", err)
		}
		if err != nil {
			b.log.Error("confirm bid batch", "auction", auctionID, "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			res := make([]result, len(batch))
			for i := range res {
				res[i].err = ErrUnconfirmed
			}
			return res
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// committed reports whether the batch behind uc took effect, and the ids
// of its rows: they are in the table, stamped with the batch's time (no
// other batch on the auction reads the same microsecond), or (a batch of
// raised maximums, which adds no row) its maximums are.
func (b *Bidder) committed(ctx context.Context, auctionID int64, uc *errUnconfirmed) (bool, []int64, error) {
	if uc.rows > 0 {
		rows, err := b.db.DB.QueryContext(ctx, `SELECT id FROM bids WHERE auction_id = $1 AND created_at = $2 ORDER BY id`,
			auctionID, uc.at)
		if err != nil {
			return false, nil, err
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return false, nil, err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return false, nil, err
		}
		if len(ids) != 0 && len(ids) != uc.rows {
			return false, nil, fmt.Errorf("bid batch on %d: %d rows at %v, wrote %d", auctionID, len(ids), uc.at, uc.rows)
		}
		return len(ids) == uc.rows, ids, nil
	}
	bidders, amounts := make([]int64, 0, len(uc.maxes)), make([]int64, 0, len(uc.maxes))
	for id, m := range uc.maxes {
		bidders, amounts = append(bidders, id), append(amounts, m)
	}
	var n int
	err := b.db.DB.QueryRowContext(ctx, `SELECT count(*) FROM maximums m
		JOIN unnest($2::bigint[], $3::bigint[]) AS x(b, a) ON m.bidder_id = x.b AND m.amount >= x.a
		WHERE m.auction_id = $1`, auctionID, bidders, amounts).Scan(&n)
	return n == len(bidders), nil, err
}

func (b *Bidder) attempt(ctx context.Context, auctionID int64, batch []*request) ([]result, error) {
	res, err := b.runBatch(ctx, auctionID, batch)
	if err != nil && retryable(err) {
		res, err = b.runBatch(ctx, auctionID, batch)
	}
	return res, err
}
