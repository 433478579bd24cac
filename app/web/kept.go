package web

import (
	"context"
	"sync"
	"time"

	"gavel/app/auth"
)

// kept is a small read-through cache of what a database notice tells every
// instance about: an entry is dropped by the notice naming its key, or set
// by one that brings its value (all of them are dropped by a reconnect), kept at most ttl as a backstop, and a read that a
// drop of its key overtook is not kept. Nothing is kept while the LISTEN
// connection is down. Past max keys it starts again empty.
type kept[K comparable, V any] struct {
	cache *auth.Cache // Listening(); nil: never cache
	ttl   time.Duration
	max   int

	mu      sync.Mutex
	entries map[K]keptEntry[V]
	epoch   map[K]uint64 // per key, bumped by each drop
	all     uint64       // bumped by each full drop
}

type keptEntry[V any] struct {
	v     V
	until time.Time
}

func newKept[K comparable, V any](c *auth.Cache, ttl time.Duration, max int) *kept[K, V] {
	return &kept[K, V]{cache: c, ttl: ttl, max: max, entries: map[K]keptEntry[V]{}, epoch: map[K]uint64{}}
}

// forgetAll drops every entry (a reconnect, or a notice it cannot read).
func (k *kept[K, V]) forgetAll() {
	k.mu.Lock()
	k.all++
	k.entries = map[K]keptEntry[V]{}
	k.epoch = map[K]uint64{}
	k.mu.Unlock()
}

// forget drops key's entry (its notice, or this instance's own change).
func (k *kept[K, V]) forget(key K) {
	k.mu.Lock()
	delete(k.entries, key)
	if len(k.epoch) >= k.max {
		k.epoch = map[K]uint64{}
		k.all++ // a read under way keyed on a dropped epoch must not be kept
	}
	k.epoch[key]++
	k.mu.Unlock()
}

// set keeps v as key's value, newer than any read under way (which is not
// kept), as a notice that brings it says.
func (k *kept[K, V]) set(key K, v V) {
	k.forget(key)
	if k.cache == nil || !k.cache.Listening() {
		return
	}
	k.mu.Lock()
	if len(k.entries) >= k.max {
		k.entries = map[K]keptEntry[V]{}
	}
	k.entries[key] = keptEntry[V]{v: v, until: time.Now().Add(k.ttl)}
	k.mu.Unlock()
}

// get returns key's value, reading it with read when it is not kept.
func (k *kept[K, V]) get(ctx context.Context, key K, read func(context.Context) (V, error)) (V, error) {
	now := time.Now()
	k.mu.Lock()
	e, ok := k.entries[key]
	epoch, all := k.epoch[key], k.all
	k.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.v, nil
	}
	listening := k.cache != nil && k.cache.Listening()
	v, err := read(ctx)
	if err != nil {
		return v, err
	}
	k.mu.Lock()
	// Keep it only if nothing changed while it was read.
	if listening && k.epoch[key] == epoch && k.all == all {
		if len(k.entries) >= k.max {
			k.entries = map[K]keptEntry[V]{}
		}
		k.entries[key] = keptEntry[V]{v: v, until: now.Add(k.ttl)}
	}
	k.mu.Unlock()
	return v, nil
}
