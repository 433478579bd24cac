package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"gavel/app/auction"
	"gavel/app/auth"
	"gavel/app/metrics"
	"gavel/views"
	"gavel/views/pages"
)

// ListsChannel announces new listings and changes that move auctions in the
// lists (migration 0003's triggers).
const ListsChannel = "gavel_lists"

// Front-page cache bounds.
const (
	listMaxPage = 10              // deeper pages are read each time
	listTTL     = 5 * time.Second // backstop; changes drop entries at once
	// listMaxLive bounds the bid states kept to patch fresh reads with.
	listMaxLive = 100_000
)

// listCache keeps the pages of the auction lists (per tab and page, without
// a search) that this instance has read, so the front page costs no query
// until something changes. Changes arrive over the auth cache's LISTEN
// connection: a listing, a settlement, a cancel, a moved end or a changed
// nickname drop every page (epoch); a bid only updates the price, count and
// leader of the card it is on, in every cached page and in reads still
// under way (live holds the newest bid state of each auction, the one with
// the highest bid count wins). Nothing is kept while that connection is
// down. A signed-out visitor's whole page is rendered once per language,
// address and second, and served with their own CSRF token spliced in
// (spliced); a signed-in visitor's is a shell every signed-in visitor
// shares, rendered once per language and address, with their own header
// corner, stream URL and cards with their watch toggles in its slots.
type listCache struct {
	cache   *auth.Cache // Listening(); nil: never cache
	metrics *metrics.Metrics

	mu    sync.Mutex
	pages map[listKey]listEntry
	live  map[int64]auction.Event
	epoch uint64
}

type listKey struct {
	view string
	page int
}

type listEntry struct {
	pg    auction.Page
	until time.Time
	r     *renders // the cards of pg, rendered; a new entry starts empty
}

// renders keeps a page's cards rendered per language, each for the second
// it was rendered in (the countdowns show whole seconds; their SSE stream
// corrects them every second anyway).
type renders struct {
	mu   sync.Mutex
	html map[string]rendered

	cardsOnce sync.Once
	cardList  []pages.Card
	open      []int64

	// Whole pages for signed-out visitors, and the watch toggles of
	// signed-in ones, cut for their CSRF tokens.
	pagesMu sync.Mutex
	pages   map[sharedKey]sharedPage
	buttons map[buttonKey][][]byte
	// The page as signed-in visitors share it, but for its slots.
	shells map[sharedKey]*shell

	// The cards with the toggles, per set of watched cards.
	gridsMu sync.Mutex
	grids   map[gridKey]sharedPage
}

// sharedKey names a signed-out visitor's page: its language, the address
// it links back to, and whether htmx asked for the body alone.
type sharedKey struct {
	lang     string
	uri      string
	fragment bool
}

type sharedPage struct {
	sec  int64
	page *spliced
}

// maxSharedPages bounds the addresses kept per list page: the same page
// reached by any other query string is rendered each time.
const maxSharedPages = 16

// page returns the page under k rendered during second sec, rendering it
// with render when it has none; nil (render it yourself) when r keeps no
// more addresses.
func (r *renders) page(k sharedKey, sec int64, render func() ([]byte, error)) (*spliced, error) {
	if r == nil {
		return nil, nil
	}
	r.pagesMu.Lock()
	defer r.pagesMu.Unlock()
	return keepSpliced(&r.pages, k, maxSharedPages, sec, render)
}

// shell returns the shell under k, building it from render's page when
// it has none; nil (render it yourself) when r keeps no more addresses, or
// when the page cannot be a shell (render failed: it is not tried again).
func (r *renders) shell(k sharedKey, render func() ([]byte, error)) *shell {
	r.pagesMu.Lock()
	defer r.pagesMu.Unlock()
	sh, _ := keepIn(&r.shells, k, maxSharedPages, func(*shell) bool { return true }, func() (*shell, error) {
		b, err := render()
		if err != nil {
			return nil, nil // kept as nil: not tried again
		}
		sh, _ := newShell(b)
		return sh, nil
	})
	return sh
}

// keepSpliced is keepIn for HTML rendered during second sec with
// tokenHole for the visitor's token.
func keepSpliced[K comparable](m *map[K]sharedPage, k K, bound int, sec int64, render func() ([]byte, error)) (*spliced, error) {
	p, err := keepIn(m, k, bound, func(p sharedPage) bool { return p.sec == sec }, func() (sharedPage, error) {
		b, err := render()
		if err != nil {
			return sharedPage{}, err
		}
		sp, err := newSpliced(b)
		return sharedPage{sec: sec, page: sp}, err
	})
	return p.page, err
}

// keepIn returns (*m)[k] when fresh says it still holds, else builds it
// and keeps it there, unless *m already holds bound other keys: then the
// zero value (build it yourself, uncached). The caller holds m's lock.
func keepIn[K comparable, V any](m *map[K]V, k K, bound int, fresh func(V) bool, build func() (V, error)) (V, error) {
	var zero V
	v, ok := (*m)[k]
	if ok && fresh(v) {
		return v, nil
	}
	if !ok && len(*m) >= bound {
		return zero, nil
	}
	v, err := build()
	if err != nil {
		return zero, err
	}
	if *m == nil {
		*m = map[K]V{}
	}
	(*m)[k] = v
	return v, nil
}

type rendered struct {
	sec  int64
	html []byte
}

// get returns the cards in lang rendered during second sec, rendering
// them with render when it has none.
func (r *renders) get(lang string, sec int64, render func() ([]byte, error)) ([]byte, error) {
	if r == nil {
		return render()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.html[lang]; ok && h.sec == sec {
		return h.html, nil
	}
	b, err := render()
	if err != nil {
		return nil, err
	}
	if r.html == nil {
		r.html = map[string]rendered{}
	}
	r.html[lang] = rendered{sec: sec, html: b}
	return b, nil
}

func newListCache(c *auth.Cache, m *metrics.Metrics) *listCache {
	l := &listCache{cache: c, metrics: m, pages: map[listKey]listEntry{}, live: map[int64]auction.Event{}}
	if c != nil {
		c.OnNotify(ListsChannel, func(string) { l.flush() })
		c.OnNotify(auction.Channel, l.event)
		c.OnNotify(auth.Channel, func(p string) {
			if p == "" || strings.HasPrefix(p, "n:") {
				l.flush()
			}
		})
	}
	return l
}

func (l *listCache) flush() {
	l.mu.Lock()
	l.epoch++
	l.pages = map[listKey]listEntry{}
	l.live = map[int64]auction.Event{}
	l.mu.Unlock()
}

// event applies one auction event; "" (a reconnect) or anything unreadable
// drops everything.
func (l *listCache) event(payload string) {
	var e auction.Event
	if payload == "" || json.Unmarshal([]byte(payload), &e) != nil {
		l.flush()
		return
	}
	if e.Kind != auction.EventBid {
		if e.Status == auction.StatusSold || e.Status == auction.StatusUnsold {
			// Every instance sees every settlement: the lag from the end
			// to this notice, as this instance saw it.
			l.metrics.Settled(time.Since(e.EndsAt))
		}
		l.flush()
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.live[e.AuctionID]; !ok || e.BidCount > old.BidCount {
		if len(l.live) >= listMaxLive {
			l.live = map[int64]auction.Event{}
			l.epoch++
			l.pages = map[listKey]listEntry{}
		}
		l.live[e.AuctionID] = e
	}
	for k, ent := range l.pages {
		if pg, changed := l.patch(ent.pg); changed {
			l.pages[k] = listEntry{pg: pg, until: ent.until, r: &renders{}}
		}
	}
}

// patch returns pg with every card brought up to the newest bid state seen
// (a copy when anything changed: readers may hold the old one).
func (l *listCache) patch(pg auction.Page) (auction.Page, bool) {
	var items []auction.Auction
	for i := range pg.Items {
		a := &pg.Items[i]
		e, ok := l.live[a.ID]
		if !ok || e.BidCount <= a.BidCount || a.Status != auction.StatusOpen || !e.EndsAt.Equal(a.EndsAt) {
			// A moved end also moves the card in the list: the lists
			// notice (same transaction) drops the page right after.
			continue
		}
		if items == nil {
			items = append([]auction.Auction(nil), pg.Items...)
		}
		b := &items[i]
		b.CurrentPrice, b.BidCount, b.LeaderID, b.Leader, b.ReserveMet = e.Price, e.BidCount, e.LeaderID, e.Leader, e.ReserveMet
	}
	if items == nil {
		return pg, false
	}
	pg.Items = items
	return pg, true
}

// get returns the page of view (tab) number page, from memory when it
// can, with the renders of its cards (nil when it is not kept).
func (l *listCache) get(ctx context.Context, view string, page int, read func(context.Context) (auction.Page, error)) (auction.Page, *renders, error) {
	if l.cache == nil || page > listMaxPage {
		pg, err := read(ctx)
		return pg, nil, err
	}
	k := listKey{view, page}
	now := time.Now()
	l.mu.Lock()
	ent, ok := l.pages[k]
	epoch := l.epoch
	l.mu.Unlock()
	if ok && now.Before(ent.until) {
		return ent.pg, ent.r, nil
	}
	pg, err := read(ctx)
	if err != nil || !l.cache.Listening() {
		return pg, nil, err
	}
	until := now.Add(listTTL)
	for _, a := range pg.Items {
		// An open auction leaves the open lists when it ends, before the
		// sweeper settles it.
		if a.Status == auction.StatusOpen && a.EndsAt.Before(until) {
			until = a.EndsAt
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.epoch != epoch {
		return pg, nil, nil
	}
	pg, _ = l.patch(pg)
	ent = listEntry{pg: pg, until: until, r: &renders{}}
	l.pages[k] = ent
	return pg, ent.r, nil
}

// renderedCards is l's cards in v's language, rendered at most once per
// second per change of the page.
func (s *Server) renderedCards(ctx context.Context, r *renders, v views.Ctx, l pages.List) ([]byte, error) {
	return r.get(string(v.P.Lang()), l.Now.Unix(), func() ([]byte, error) {
		var buf bytes.Buffer
		err := pages.Cards(v, l.Cards, l.Now).Render(ctx, &buf)
		return buf.Bytes(), err
	})
}

// cards returns the page's cards and its open auctions, built once (by
// build) for every request.
func (r *renders) cards(build func() ([]pages.Card, []int64)) ([]pages.Card, []int64) {
	if r == nil {
		return build()
	}
	r.cardsOnce.Do(func() { r.cardList, r.open = build() })
	return r.cardList, r.open
}

// watchButton is card id's watch toggle (on: watched) in lang, linking
// back to uri, rendered once with tokenHole for every visitor and cut
// there; nil when r keeps no more.
func (r *renders) watchButton(k buttonKey, render func() ([]byte, error)) ([][]byte, error) {
	if r == nil {
		return nil, nil
	}
	r.pagesMu.Lock()
	defer r.pagesMu.Unlock()
	return keepIn(&r.buttons, k, maxSharedButtons, func([][]byte) bool { return true }, func() ([][]byte, error) {
		b, err := render()
		return bytes.Split(b, []byte(tokenHole)), err
	})
}

// watchedGrid is the cards with their watch toggles as every signed-in
// visitor who watches the same of them sees them, rendered during second
// sec with tokenHole for their token; nil when r keeps no more.
func (r *renders) watchedGrid(k gridKey, sec int64, render func() ([]byte, error)) (*spliced, error) {
	if r == nil {
		return nil, nil
	}
	r.gridsMu.Lock() // not pagesMu: render takes it for the toggles
	defer r.gridsMu.Unlock()
	return keepSpliced(&r.grids, k, maxSharedGrids, sec, render)
}

// gridKey names the cards with their toggles: the language, the address
// the toggles link back to, and which of the cards are watched (their
// indexes, as bytes).
type gridKey struct {
	lang    string
	uri     string
	watched string
}

// maxSharedGrids bounds the sets of watched cards kept per list page.
const maxSharedGrids = 64

type buttonKey struct {
	lang string
	uri  string
	id   int64
	on   bool
}

// maxSharedButtons bounds the watch toggles kept per list page.
const maxSharedButtons = 4 * maxSharedPages * auction.PageSize

// rawHTML is HTML a templ component rendered earlier, written as it is.
func rawHTML(b []byte) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
