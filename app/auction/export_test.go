package auction

// Writers reports how many writer goroutines b is running.
func Writers(b *Bidder) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.writers)
}
