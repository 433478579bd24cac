// Package views holds what every templ component shares: the per-request
// view context and the DOM ids and SSE event names that handlers, the live
// layer and templates must spell the same way.
package views

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"gavel/app/i18n"
)

// User is the signed-in user as the page header shows them.
type User struct {
	ID      int64
	Nick    string
	Balance int64
	Avatar  string
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind string // ok, error, info
	Text string
}

// Ctx is what the layout and every component need to know about the
// request: the language, who is signed in, the CSRF token.
type Ctx struct {
	P     *i18n.Printer
	User  *User // nil when signed out
	CSRF  string
	Path  string // the request path with its query, for ?next= and the language switch
	Flash *Flash
	Dev   bool    // development: show the designer's gallery link
	Watch []int64 // auctions whose countdowns this page streams over SSE
	// Summaries: the stream carries the Watch auctions' price and bid
	// count too (the seller's dashboard).
	Summaries bool
	Title     string
	NoIndex   bool
	// BaseURL is the site's public address (BASE_URL), for canonical and
	// alternate-language links; Meta describes the page for search engines
	// and link previews (nil: the site's description only).
	BaseURL string
	Meta    *Meta
	// Unread is the signed-in user's unread notifications (the bell);
	// LastNote the id of their newest, after which the page's stream
	// sends new ones.
	Unread   int
	LastNote int64
	// Slots, when set, renders the page once for every signed-in visitor
	// of its address: each part that is the visitor's own (Slot) is
	// written as Slots followed by the part's kind, and filled in per
	// request.
	Slots string
}

// The kinds of a page's slots.
const (
	SlotCorner = 'c' // the header's corner: the bell and the user box
	SlotAfter  = 'a' // the newest notification's id in the stream's URL
	SlotGrid   = 'g' // a list's cards with the visitor's watch toggles
)

// Slot is comp, or, when c.Slots is set, the mark of a slot of kind.
func (c Ctx) Slot(kind byte, comp templ.Component) templ.Component {
	if c.Slots == "" {
		return comp
	}
	return templ.Raw(c.Slots + string(kind))
}

// Meta is what a page says of itself to crawlers and to the link previews
// of chat apps (OpenGraph, Twitter cards).
type Meta struct {
	Description string
	Image       string // an absolute URL
	Type        string // og:type: "website" unless set
}

// LangURL is this page's absolute URL in language lang ("" for the one
// without a language: the x-default). Every other query parameter stays.
func (c Ctx) LangURL(lang string) string {
	if c.BaseURL != "" && plainPath(c.Path) {
		// No query to keep and nothing to escape: what parsing would
		// give, without it (a page links here several times).
		u := strings.TrimRight(c.BaseURL, "/") + c.Path
		if lang != "" {
			u += "?lang=" + url.QueryEscape(lang)
		}
		return u
	}
	return c.parsedLangURL(lang)
}

// plainPath reports whether p is a path of unreserved characters and
// slashes alone (RFC 3986), which parsing leaves as it is.
func plainPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		b := p[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("/-._~", b) >= 0) {
			return false
		}
	}
	return true
}

func (c Ctx) parsedLangURL(lang string) string {
	u, err := url.Parse(c.Path)
	if err != nil || c.BaseURL == "" {
		return ""
	}
	q := u.Query()
	q.Del("lang")
	if lang != "" {
		q.Set("lang", lang)
	}
	u.RawQuery = q.Encode()
	return strings.TrimRight(c.BaseURL, "/") + u.RequestURI()
}

// Locale is the OpenGraph locale of the page's language.
func (c Ctx) Locale() string {
	if c.P.Lang() == i18n.English {
		return "en_US"
	}
	return "ko_KR"
}

// T is shorthand for the printer's T.
func (c Ctx) T(key string, args ...any) string { return c.P.T(key, args...) }

// Money formats an amount of won in the page's language.
func (c Ctx) Money(n int64) string { return c.P.Money(n) }

// EventsURL is the SSE stream of this page: the countdowns of Watch and, for
// a signed-in user, their personal notices. Empty when there is nothing to
// stream.
func (c Ctx) EventsURL() string {
	if len(c.Watch) == 0 && c.User == nil {
		return ""
	}
	u := make([]byte, 0, 64+12*len(c.Watch))
	u = append(u, "/events?"...)
	for i, id := range c.Watch {
		if i == 0 {
			u = append(u, "auctions="...)
		} else {
			u = append(u, ',')
		}
		u = strconv.AppendInt(u, id, 10)
	}
	if len(c.Watch) > 0 {
		u = append(u, '&')
		if c.Summaries {
			u = append(u, "summary=1&"...)
		}
	}
	// The page's language, which may have come from its URL (?lang=):
	// the stream renders its fragments in it.
	u = append(u, "lang="...)
	u = append(u, c.P.Lang()...)
	if c.User != nil {
		// Notifications after the ones this page counted come over the
		// stream (a reconnect sends Last-Event-ID instead).
		u = append(u, "&after="...)
		if c.Slots != "" {
			u = append(u, c.Slots...)
			u = append(u, SlotAfter)
		} else {
			u = strconv.AppendInt(u, c.LastNote, 10)
		}
	}
	return string(u)
}

func id(prefix string, n int64) string { return prefix + strconv.FormatInt(n, 10) }

// AuctionID is the DOM id of an auction's card or room.
func AuctionID(a int64) string { return id("auction-", a) }

// CountdownID is the DOM id of an auction's countdown.
func CountdownID(a int64) string { return id("countdown-", a) }

// SSESwap is the hx-swap of an element that an SSE event replaces whole.
// htmx wires a swapped-in element up (here: its own SSE listener) when it
// settles, 20 ms later by default; a frame arriving meanwhile (a closing
// right after a tick) would be lost. Settling at once closes that window.
const SSESwap = "outerHTML settle:0ms"

// CountdownEvent is the SSE event name carrying an auction's countdown.
func CountdownEvent(a int64) string { return id("countdown-", a) }

// StatusEvent is the SSE event name carrying an auction's closing result
// (the bid form becomes the result when it ends).
func StatusEvent(a int64) string { return id("status-", a) }

// PriceID is the DOM id of an auction's current price.
func PriceID(a int64) string { return id("price-", a) }

// BidCountID is the DOM id of an auction's bid count.
func BidCountID(a int64) string { return id("bid-count-", a) }

// MinBidID is the DOM id of the minimum next bid.
func MinBidID(a int64) string { return id("min-bid-", a) }

// LeaderID is the DOM id of who leads an auction.
func LeaderID(a int64) string { return id("leader-", a) }

// EndsAtID is the DOM id of an auction's end time.
func EndsAtID(a int64) string { return id("ends-at-", a) }

// BidFormID is the DOM id of the bid form (and of the result that replaces it).
func BidFormID(a int64) string { return id("bid-form-", a) }

// BidRowsID is the DOM id of the bid history's body.
const BidRowsID = "bid-rows"

// BidRowID is the DOM id of one bid's row.
func BidRowID(b int64) string { return id("bid-", b) }

// NoticeEvent is the SSE event name of personal notices.
const NoticeEvent = "notice"

// NoticesID is the DOM id of the region personal notices are added to.
const NoticesID = "notices"

// AuctionWSURL is the WebSocket that streams an auction's bid rows,
// rendered in language lang.
func AuctionWSURL(a int64, lang i18n.Lang) string {
	return "/auctions/" + strconv.FormatInt(a, 10) + "/ws?lang=" + string(lang)
}

// AuctionURL is an auction's room.
func AuctionURL(a int64) string { return "/auctions/" + strconv.FormatInt(a, 10) }

// BidHistoryTitleID is the DOM id of the bid history's heading.
const BidHistoryTitleID = "bid-history-title"

// AmountID is the DOM id of the bid form's amount input.
func AmountID(a int64) string { return id("amount-", a) }

// BidErrorID is the DOM id of the bid form's error message.
func BidErrorID(a int64) string { return id("bid-error-", a) }

// ReserveID is the DOM id of an auction's reserve status.
func ReserveID(a int64) string { return id("reserve-", a) }

// BuyNowID is the DOM id of an auction's Buy It Now offer.
func BuyNowID(a int64) string { return id("buy-now-", a) }

// BuyDialogID is the DOM id of the room's Buy It Now dialog, which the
// offer's confirmation is loaded into.
func BuyDialogID(a int64) string { return id("buy-dialog-", a) }

// BuyURL is an auction's Buy It Now: its confirmation page (GET), the
// purchase (POST).
func BuyURL(a int64) string { return "/auctions/" + strconv.FormatInt(a, 10) + "/buy" }

// StandingID is the viewer's own standing in auction a (their maximum).
func StandingID(a int64) string { return id("standing-", a) }

// ImageURL is the address of an uploaded photo, or of its thumbnail.
func ImageURL(imageID int64, thumb bool) string {
	u := "/images/" + strconv.FormatInt(imageID, 10)
	if thumb {
		u += "/thumb"
	}
	return u
}

// GalleryID is the DOM id of an auction's photo gallery.
func GalleryID(a int64) string { return id("gallery-", a) }

// PhotoID is the DOM id of photo n (1-based) in auction a's gallery: the
// gallery's thumbnails link to it, and CSS shows the :target one.
func PhotoID(a int64, n int) string { return id("photo-", a) + "-" + strconv.Itoa(n) }

// TitleID is the DOM id of an auction room's title.
func TitleID(a int64) string { return id("title-", a) }

// AboutID is the DOM id of an auction room's description and addenda.
func AboutID(a int64) string { return id("about-", a) }

// ListingRefreshID is the DOM id of the element the WebSocket replaces
// when a listing changes: the replacement fetches ListingURL.
func ListingRefreshID(a int64) string { return id("listing-refresh-", a) }

// ListingURL is the fragment of an auction's listing (photos, title,
// description), as out-of-band swaps, in language lang.
func ListingURL(a int64, lang i18n.Lang) string {
	return AuctionURL(a) + "/listing?lang=" + string(lang)
}

// EditURL is the seller's page to edit (or add to) a listing.
func EditURL(a int64) string { return AuctionURL(a) + "/edit" }

// SummaryEvent is the SSE event name carrying an auction's price and bid
// count (the seller's dashboard).
func SummaryEvent(a int64) string { return id("summary-", a) }

// SummaryID is the DOM id of an auction's price and bid count on the
// seller's dashboard.
func SummaryID(a int64) string { return id("summary-", a) }

// ReserveSlotID is the DOM id of the place of a room's reserve status.
func ReserveSlotID(a int64) string { return id("reserve-slot-", a) }

// BuyNowSlotID is the DOM id of the place of a room's Buy It Now offer.
func BuyNowSlotID(a int64) string { return id("buy-now-slot-", a) }

// BellID is the DOM id of the header's bell (the unread count).
const BellID = "bell"

// WatchID is the DOM id of an auction's watch toggle.
func WatchID(a int64) string { return id("watch-", a) }

// WatchURL is where an auction's watch toggle posts.
func WatchURL(a int64) string { return AuctionURL(a) + "/watch" }

// WatchSlot marks where a card's watch toggle goes. Cards are rendered
// once for every visitor (the front page keeps them), the toggle is each
// visitor's own (their state, their CSRF token): the page fills the slot
// per request, and a signed-out visitor's stays an empty comment.
func WatchSlot(a int64) string { return watchSlotPrefix + strconv.FormatInt(a, 10) + "-->" }

// watchSlotPrefix begins every WatchSlot.
const watchSlotPrefix = "<!--gavel-watch:"

// CutWatchSlot finds the first WatchSlot in html: what comes before it,
// its auction, and what comes after; ok is false when there is none.
func CutWatchSlot(html []byte) (before []byte, auction int64, after []byte, ok bool) {
	// bytes, not strings: string(html) would copy the rest of the page
	// for every card.
	i := bytes.Index(html, []byte(watchSlotPrefix))
	if i < 0 {
		return html, 0, nil, false
	}
	rest := html[i+len(watchSlotPrefix):]
	j := bytes.Index(rest, []byte("-->"))
	if j < 0 {
		return html, 0, nil, false
	}
	id, err := strconv.ParseInt(string(rest[:j]), 10, 64)
	if err != nil {
		return html, 0, nil, false
	}
	return html[:i], id, rest[j+3:], true
}
