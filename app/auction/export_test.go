package auction

// Writers reports how many writer goroutines b is running.
func Writers(b *Bidder) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.writers)
}

// HoldBeforeWrite makes b's batches run f after judging, with every lock
// held, before they write.
func HoldBeforeWrite(b *Bidder, f func()) { b.beforeWrite = f }

// HoldBeforeCommit makes b's batches run f before COMMIT: the write and
// the COMMIT go in one round trip, so that is before the write too.
func HoldBeforeCommit(b *Bidder, f func()) { b.beforeWrite = f }

// Transactions reports how many batch transactions b has run, and how many
// bids it refused without one.
func Transactions(b *Bidder) (batches, fast int64) { return b.batches.Load(), b.fast.Load() }

// Queued reports how many bids wait in the queue of auction id's writer.
func Queued(b *Bidder, id int64) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w := b.writers[id]; w != nil {
		return len(w.queue)
	}
	return 0
}
