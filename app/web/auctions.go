package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/media"
	"gavel/views"
	"gavel/views/pages"
	"gavel/views/parts"
)

// softClose is the site's anti-sniping rule.
func (s *Server) softClose() auction.SoftClose {
	return auction.SoftClose{Window: s.Config.SoftCloseWindow, Cap: s.Config.SoftCloseCap}
}

// stateOf is what the live fragments show of an auction.
func (s *Server) stateOf(a *auction.Auction) parts.State {
	return parts.StateOf(a.State(), s.softClose())
}

// maxListPage is the last page a list serves: past it (24 000 auctions in)
// nobody browses, and a huge ?page= would overflow the OFFSET into a
// database error, or make a visitor scan the whole index.
const maxListPage = 1000

// home lists auctions: the open ones ending soonest (with a title search),
// the newly listed, or the ended ones.
func (s *Server) home(c *fiber.Ctx) error {
	ctx := c.UserContext()
	l := pages.List{View: c.Query("view"), Query: strings.TrimSpace(c.Query("q")), Page: min(max(c.QueryInt("page", 1), 1), maxListPage), Now: s.Now()}
	var pg auction.Page
	var cards *renders
	var err error
	// Each tab's name is a constant: l.View goes into the list cache's
	// keys, and c.Query's bytes are the connection's next request's.
	switch l.View {
	case "new":
		l.View = "new"
		pg, cards, err = s.lists.get(ctx, l.View, l.Page, func(ctx context.Context) (auction.Page, error) { return auction.ListNew(ctx, s.DB, l.Page) })
	case "ended":
		l.View = "ended"
		pg, cards, err = s.lists.get(ctx, l.View, l.Page, func(ctx context.Context) (auction.Page, error) { return auction.ListEnded(ctx, s.DB, l.Page) })
	case "":
		if l.Query == "" {
			pg, cards, err = s.lists.get(ctx, l.View, l.Page, func(ctx context.Context) (auction.Page, error) { return auction.ListOpen(ctx, s.DB, "", l.Page) })
			break
		}
		fallthrough
	default:
		l.View = ""
		pg, err = auction.ListOpen(ctx, s.DB, l.Query, l.Page)
	}
	if err != nil {
		return err
	}
	v := s.view(c, "")
	l.HasMore = pg.HasMore
	l.Cards, v.Watch = cards.cards(func() ([]pages.Card, []int64) { return s.cardsOf(pg) })
	var grid []byte
	if cards != nil && len(l.Cards) > 0 {
		if grid, err = s.renderedCards(ctx, cards, v, l); err != nil {
			return err
		}
		l.Grid = rawHTML(grid)
	}
	if v.User == nil && cards != nil {
		// Every signed-out visitor sees the same page but for the token.
		k := sharedKey{lang: string(v.P.Lang()), uri: v.Path, fragment: isFragment(c)}
		sp, err := cards.page(k, l.Now.Unix(), func() ([]byte, error) {
			shared := v
			shared.CSRF = tokenHole
			comp := pages.Home(shared, l)
			if k.fragment {
				comp = pages.HomeBody(shared, l)
			}
			var buf bytes.Buffer
			err := comp.Render(ctx, &buf)
			return buf.Bytes(), err
		})
		if err != nil {
			return err
		}
		if sp != nil {
			sendParts(c, func(w io.Writer, gzip bool) { sp.write(w, gzip, v.CSRF) })
			return nil
		}
	}
	comp, shared, err := s.cardWatches(c, v, l, grid, cards)
	if err != nil {
		return err
	}
	if shared == nil {
		l.Grid = comp
		return page(c, fiber.StatusOK, pages.Home(v, l), pages.HomeBody(v, l))
	}
	if sh := s.signedInShell(c, v, l, cards); sh != nil {
		corner, err := s.corners.get(ctx, v)
		if err != nil {
			return err
		}
		sendParts(c, func(w io.Writer, gzip bool) { writeShell(w, gzip, sh, v, corner, shared) })
		return nil
	}
	// A signed-in visitor's page is rendered around the cards they share
	// with others, which go in as a part.
	asm := &assembly{}
	l.Grid = templ.ComponentFunc(func(_ context.Context, w io.Writer) error { return asm.ref(w, shared) })
	return pageAssembled(c, asm, v.CSRF, pages.Home(v, l), pages.HomeBody(v, l))
}

// signedInShell is the front page as every signed-in visitor of its
// address sees it, but for its slots (their header's corner, their
// stream's URL, their toggles on the cards), rendered once per change of
// the list; nil when there is none to share (a flash to show, no more
// addresses kept, a page that cannot be shared).
//
// It is rendered for a stand-in user whose name no page contains: a
// page that shows it has something of the visitor's own outside the slots,
// and is not shared.
func (s *Server) signedInShell(c *fiber.Ctx, v views.Ctx, l pages.List, r *renders) *shell {
	if r == nil || v.Flash != nil {
		return nil
	}
	k := sharedKey{lang: string(v.P.Lang()), uri: v.Path, fragment: isFragment(c)}
	return r.shell(k, func() ([]byte, error) {
		b, err := homeShell(c.UserContext(), v, l, k.fragment)
		if err != nil {
			s.Log.Error("the signed-in front page is not shared", "err", err)
		}
		return b, err
	})
}

// homeShell renders the front page (its body alone when fragment) as the
// shell signed-in visitor v shares with the others.
func homeShell(ctx context.Context, v views.Ctx, l pages.List, fragment bool) ([]byte, error) {
	v.User = &views.User{ID: -1, Nick: standIn}
	v.CSRF, v.Slots, v.Unread, v.LastNote = tokenHole, slotHole, 0, 0
	l.Grid = v.Slot(views.SlotGrid, nil)
	comp := pages.Home(v, l)
	if fragment {
		comp = pages.HomeBody(v, l)
	}
	var buf bytes.Buffer
	if err := comp.Render(ctx, &buf); err != nil {
		return nil, err
	}
	if bytes.Contains(buf.Bytes(), []byte(standIn)) {
		return nil, errors.New("it shows the visitor outside its slots")
	}
	return buf.Bytes(), nil
}

// writeShell writes sh for visitor v: their token in its holes, and in its
// slots their header's corner (rendered), their stream's URL and grid,
// the cards with their toggles.
func writeShell(w io.Writer, gzip bool, sh *shell, v views.Ctx, corner []byte, grid *spliced) {
	sh.write(w, gzip, v.CSRF, func(b *body, kind byte) {
		switch kind {
		case views.SlotCorner:
			b.own(corner)
		case views.SlotAfter:
			b.own(strconv.AppendInt(nil, v.LastNote, 10))
		case views.SlotGrid:
			b.spliced(grid, v.CSRF)
		}
	})
}

// standIn is the name of the user a shared signed-in page is rendered for
// (random, so no content contains it; letters only, so no escaping
// changes it).
var standIn = "u" + strings.NewReplacer("-", "x", "_", "y").Replace(randomHole()[:16])

// cardsOf is pg's cards, and the open auctions among them (whose
// countdowns the page streams).
func (s *Server) cardsOf(pg auction.Page) ([]pages.Card, []int64) {
	cards := make([]pages.Card, 0, len(pg.Items))
	var open []int64
	for i := range pg.Items {
		a := &pg.Items[i]
		cards = append(cards, pages.Card{ID: a.ID, Title: a.Title, Image: views.ImageURL(a.ImageID, true), Seller: a.Seller, State: s.stateOf(a)})
		if a.Status == auction.StatusOpen {
			open = append(open, a.ID)
		}
	}
	return cards, open
}

// sellForm is the empty sell form.
func (s *Server) sellForm(c *fiber.Ctx) error {
	return s.renderSell(c, fiber.StatusOK, pages.SellForm{Duration: auction.DefaultDuration.String()})
}

func (s *Server) renderSell(c *fiber.Ctx, status int, f pages.SellForm) error {
	p := printer(c)
	if w := s.Config.SoftCloseWindow; w > 0 {
		f.Window = p.Remaining(w)
	}
	for _, d := range auction.Durations(s.shortAuction()) {
		f.Durations = append(f.Durations, pages.Option{Value: d.String(), Label: p.Duration(d)})
	}
	v := s.view(c, p.T("sell.title"))
	return page(c, status, pages.Sell(v, f), pages.SellFormBody(v, f))
}

// shortAuction is the configured extra duration, offered in development only.
func (s *Server) shortAuction() time.Duration {
	if s.Config.IsProduction() {
		return 0
	}
	return s.Config.ShortAuction
}

// auctionCreate lists an item: the fields (and the number of photos) are
// checked first, then each photo is processed, and the photos and the
// auction are stored in one transaction, so a refused listing leaves no
// orphan image.
func (s *Server) auctionCreate(c *fiber.Ctx) error {
	u := currentUser(c)
	p := printer(c)
	f := pages.SellForm{
		Title:       strings.Clone(c.FormValue("title")),
		Description: strings.Clone(c.FormValue("description")),
		StartPrice:  strings.TrimSpace(strings.Clone(c.FormValue("start_price"))),
		Reserve:     strings.TrimSpace(strings.Clone(c.FormValue("reserve"))),
		BuyNow:      strings.TrimSpace(strings.Clone(c.FormValue("buy_now"))),
		Duration:    strings.Clone(c.FormValue("duration")),
		HardEnd:     c.FormValue("hard_end") != "",
		Errors:      map[string]string{},
	}
	in := auction.CreateInput{SellerID: u.ID, Title: f.Title, Description: f.Description, ImageID: -1, HardEnd: f.HardEnd}
	price, perr := strconv.ParseInt(strings.ReplaceAll(f.StartPrice, ",", ""), 10, 64)
	in.StartPrice = price
	in.Duration, _ = time.ParseDuration(f.Duration)
	// The reserve and Buy It Now are optional: empty is none.
	optional := func(text string) (int64, bool) {
		if text == "" {
			return 0, true
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(text, ",", ""), 10, 64)
		return n, err == nil
	}
	var reserveOK, buyNowOK bool
	in.Reserve, reserveOK = optional(f.Reserve)
	in.BuyNow, buyNowOK = optional(f.BuyNow)
	for field, key := range in.Validate(s.shortAuction()) {
		if field != auction.FieldImage {
			f.Errors[field] = p.T(key)
		}
	}
	if perr != nil && f.StartPrice != "" {
		f.Errors[auction.FieldStartPrice] = p.T("sell.price_not_a_number")
	}
	if !reserveOK {
		f.Errors[auction.FieldReserve] = p.T("sell.reserve_not_a_number")
	}
	if !buyNowOK {
		f.Errors[auction.FieldBuyNow] = p.T("sell.buy_now_not_a_number")
	}

	var imgs []*media.Image
	files := photoFiles(c)
	switch {
	case len(files) == 0:
		f.Errors[auction.FieldImage] = p.T("auction.image_required")
	case len(files) > auction.MaxPhotos:
		// Refused before any decode: the count alone is enough.
		f.Errors[auction.FieldImage] = p.T("sell.too_many_photos", p.Number(auction.MaxPhotos), p.Number(auction.MaxPhotos))
	case len(f.Errors) == 0:
		var msg string
		var err error
		if imgs, msg, err = s.processPhotos(c, p, files); err != nil {
			return err
		}
		if msg != "" {
			f.Errors[auction.FieldImage] = msg
		}
	}
	if len(f.Errors) > 0 {
		return s.renderSell(c, fiber.StatusUnprocessableEntity, f)
	}

	var id int64
	err := s.DB.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		ids, err := savePhotos(ctx, tx, u.ID, imgs)
		if err != nil {
			return err
		}
		in.Photos = ids
		id, err = auction.Create(ctx, tx, in, s.shortAuction())
		return err
	})
	var fe auction.FieldErrors
	if errors.As(err, &fe) {
		for field, key := range fe {
			f.Errors[field] = p.T(key)
		}
		return s.renderSell(c, fiber.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	s.Sweeper.Wake()
	return redirect(c, views.AuctionURL(id)+"?created=1")
}

// redirect sends the browser to path: a 303 for a plain form post, an
// HX-Redirect for htmx.
func redirect(c *fiber.Ctx, path string) error {
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", path)
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Redirect(path, fiber.StatusSeeOther)
}

// auctionID parses the :id parameter; anything but a positive number is a
// page that does not exist.
func auctionID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}

// room loads the auction as this viewer sees it, without its bid rows:
// an htmx bid answer (the form alone) needs no more.
func (s *Server) room(c *fiber.Ctx, id int64) (pages.Room, error) {
	a, err := auction.Get(c.UserContext(), s.DB, id)
	if errors.Is(err, auction.ErrNotFound) {
		return pages.Room{}, fiber.ErrNotFound
	}
	if err != nil {
		return pages.Room{}, err
	}
	return s.roomOf(c, a)
}

// roomOf is the room of a as this viewer sees it (the room cache has a).
func (s *Server) roomOf(c *fiber.Ctx, a *auction.Auction) (pages.Room, error) {
	var err error
	id := a.ID
	r := pages.Room{
		ID: a.ID, Title: a.Title, Description: a.Description, ImageID: a.ImageID, Seller: a.Seller,
		StartPrice: a.StartPrice, State: s.stateOf(a), Now: s.Now(),
		Photos: a.Photos, RelistedFrom: a.RelistedFrom, RelistedAs: a.RelistedAs,
	}
	for _, d := range a.Addenda {
		r.Addenda = append(r.Addenda, pages.Addendum{Body: d.Body, At: d.CreatedAt})
	}
	switch u := currentUser(c); {
	case u == nil:
		r.Viewer = pages.Guest
	case u.ID == a.SellerID && a.BidCount == 0 && a.Status == auction.StatusOpen:
		r.Viewer = pages.SellerCan
	case u.ID == a.SellerID:
		r.Viewer = pages.Seller
		if relistable(a) {
			r.CanRelist = true
			r.Relist = s.relistForm(c, auction.DefaultDuration.String(), "")
		}
	default:
		r.Viewer = pages.Bidder
		// The viewer's own maximum, for them alone: from this instance's
		// cache, but read afresh right after a form bid or purchase, which
		// another instance may have made.
		if a.BidCount > 0 {
			if c.Query("bid") != "" || c.Query("bought") != "" {
				r.Mine.Max, err = auction.MaxOf(c.UserContext(), s.DB, id, u.ID)
			} else {
				r.Mine.Max, err = s.maxes.get(c.UserContext(), s.DB, id, u.ID)
			}
			if err != nil {
				return r, err
			}
			r.Mine.Leading = a.LeaderID == u.ID && a.Status == auction.StatusOpen
		}
	}
	if (r.Viewer == pages.Seller || r.Viewer == pages.SellerCan) && a.HasReserve {
		// The reserve, for the seller alone.
		if r.MyReserve, err = auction.ReserveOf(c.UserContext(), s.DB, id, currentUser(c).ID); err != nil {
			return r, err
		}
	}
	return r, nil
}

// roomWithBids is room plus a page of bid rows (the latest, or those before
// the bid id before). Both reads cost the same however many bids there are.
func (s *Server) roomWithBids(c *fiber.Ctx, id, before int64) (pages.Room, error) {
	r, err := s.room(c, id)
	if err != nil {
		return r, err
	}
	bids, err := auction.RecentBids(c.UserContext(), s.DB, id, before, auction.MaxBidsPage)
	if err != nil {
		return r, err
	}
	for _, b := range bids {
		r.Bids = append(r.Bids, parts.Bid{ID: b.ID, Bidder: b.Bidder, Amount: b.Amount, Message: b.Message, At: b.CreatedAt, Auto: b.Auto, Purchase: b.Purchase})
	}
	if len(bids) == auction.MaxBidsPage {
		r.OlderBefore = bids[len(bids)-1].ID
	}
	return r, nil
}

// auctionShow is the auction room.
func (s *Server) auctionShow(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	var r pages.Room
	if c.Query("bid") != "" || c.Query("bought") != "" {
		// After a form bid or a purchase: this instance may not have
		// heard of it yet.
		r, err = s.roomWithBids(c, id, 0)
	} else {
		r, err = s.roomCached(c, id)
	}
	if err != nil {
		return err
	}
	v := s.view(c, r.Title)
	v.Meta = s.auctionMeta(v, r)
	switch {
	case c.Query("created") == "1":
		v.Flash = &views.Flash{Kind: "ok", Text: v.T("sell.created")}
	case c.Query("bought") == "1" && r.State.EndReason == auction.ReasonBought && v.User != nil && v.User.Nick == r.State.Leader:
		v.Flash = &views.Flash{Kind: "ok", Text: v.T("buy.done", v.Money(r.State.Price))}
	case c.Query("edited") == "1" && r.Viewer != pages.Bidder && r.Viewer != pages.Guest:
		v.Flash = &views.Flash{Kind: "ok", Text: v.T("edit.saved")}
	case r.Viewer == pages.Bidder && r.Mine.Max > 0:
		// Back from a plain form post: say what the bid did, as far as the
		// state still shows it.
		switch pages.Outcome(c.Query("bid")) {
		case pages.Leading, pages.Raised:
			if r.Mine.Leading {
				r.Form.Outcome = pages.Outcome(c.Query("bid"))
			}
		case pages.Outbid:
			r.Form.Outcome = pages.Outbid
		}
		r.Form.Extended = c.Query("extended") == "1"
	}
	if r.State.Status == auction.StatusOpen {
		v.Watch = []int64{id}
	}
	if err := s.roomWatch(c, &r); err != nil {
		return err
	}
	return render(c, fiber.StatusOK, pages.Auction(v, r))
}

// relistable reports whether a's seller may relist it: unsold, or
// cancelled by them (not by an operator), not hidden, not relisted yet.
func relistable(a *auction.Auction) bool {
	ended := a.Status == auction.StatusUnsold || a.Status == auction.StatusCancelled && a.CancelReason == ""
	return ended && !a.Hidden && a.RelistedAs == 0
}

// auctionMeta describes an auction room for link previews: what it is, its
// price and bids (or its result), and its photo.
func (s *Server) auctionMeta(v views.Ctx, r pages.Room) *views.Meta {
	p := v.P
	var state string
	switch r.State.Status {
	case auction.StatusSold:
		state = p.T("meta.sold", p.Money(r.State.Price))
	case auction.StatusUnsold, auction.StatusCancelled:
		state = p.T("meta.closed")
	default:
		state = p.T("meta.open", p.Money(r.State.Price), p.Number(int64(r.State.BidCount)), p.Time(r.State.EndsAt))
	}
	desc := state
	if d := strings.TrimSpace(r.Description); d != "" {
		if runes := []rune(d); len(runes) > 150 {
			d = string(runes[:150]) + "…"
		}
		desc = state + " · " + d
	}
	return &views.Meta{Description: desc, Type: "product",
		Image: strings.TrimRight(s.Config.BaseURL, "/") + views.ImageURL(r.ImageID, false)}
}

// bidsOlder is a page of older bids of an auction (50 before ?before=ID).
func (s *Server) bidsOlder(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	before, err := strconv.ParseInt(c.Query("before"), 10, 64)
	if err != nil || before <= 0 {
		return refuse(fiber.StatusBadRequest, "room.bad_page")
	}
	r, err := s.roomWithBids(c, id, before)
	if err != nil {
		return err
	}
	v := s.view(c, r.Title)
	return render(c, fiber.StatusOK, pages.OlderBids(v, r))
}

// bidStatus is the status code of a refused bid: the client's input
// (422), a conflict with the auction's current state (409), or not theirs
// to do (403, 404).
func bidStatus(err error) int {
	switch {
	case errors.Is(err, auction.ErrNotFound):
		return fiber.StatusNotFound
	case errors.Is(err, auction.ErrOwnAuction), errors.Is(err, auction.ErrBuyOwn):
		return fiber.StatusForbidden
	case errors.Is(err, auction.ErrBought), errors.Is(err, auction.ErrBuyGone), errors.Is(err, auction.ErrBuyChanged):
		return fiber.StatusConflict
	case errors.Is(err, auction.ErrEnded), errors.Is(err, auction.ErrTooLow),
		errors.Is(err, auction.ErrBelowStart), errors.Is(err, auction.ErrMaxNotHigher),
		errors.Is(err, auction.ErrInsufficientFunds):
		return fiber.StatusConflict
	case errors.Is(err, auction.ErrClosed), errors.Is(err, auction.ErrUnconfirmed):
		return fiber.StatusServiceUnavailable
	}
	return fiber.StatusUnprocessableEntity
}

// bidCreate places a bid: the bidder's maximum. Every refusal answers with
// the form and the reason, with a 4xx, and changes nothing. An accepted
// bid is committed before this answers; its rows reach this page, like
// every other, over the WebSocket, so the htmx answer is only the fresh
// form with what the bid did (leading, answered by an earlier maximum, or
// a raised maximum) and the bidder's own maximum.
func (s *Server) bidCreate(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	amountText := strings.TrimSpace(strings.ReplaceAll(c.FormValue("amount"), ",", ""))
	in := auction.BidInput{AuctionID: id, BidderID: u.ID, Message: strings.Clone(c.FormValue("message")),
		Key: strings.Clone(c.FormValue("key"))}
	in.Amount, err = strconv.ParseInt(amountText, 10, 64)
	var placed auction.Placed
	if err != nil {
		err = auction.ErrInvalidAmount
	} else {
		// The bid is judged and committed even if the client goes away:
		// its answer must reflect what happened.
		placed, err = s.Bidder.PlaceBid(context.WithoutCancel(c.UserContext()), in)
	}
	var ae *auction.Error
	if errors.As(err, &ae) {
		p := printer(c)
		return s.bidForm(c, bidStatus(err), id, pages.BidForm{
			Amount: strings.Clone(amountText), Message: in.Message, Error: p.T(ae.Key(), ae.Args(p.Money)...),
			MinNext: refusedBelow(ae),
		})
	}
	if err != nil {
		return err
	}
	s.maxes.forget(id, u.ID) // its notice is on its way
	f := pages.BidForm{Extended: placed.Extended}
	switch placed.Result {
	case auction.Leading:
		f.Outcome = pages.Leading
	case auction.Outbid:
		f.Outcome = pages.Outbid
	case auction.Raised:
		f.Outcome = pages.Raised
	}
	if c.Get("HX-Request") != "true" {
		q := "?bid=" + string(f.Outcome)
		if f.Extended {
			q += "&extended=1"
		}
		return c.Redirect(views.AuctionURL(id)+q, fiber.StatusSeeOther)
	}
	if isFragment(c) {
		// The form alone, drawn from what the bid's own answer says: it
		// costs no read, and the rows and any newer state reach the page
		// over its socket.
		r := pages.Room{ID: id, Viewer: pages.Bidder, Now: s.Now(), Form: f,
			State: parts.State{ID: id, Status: auction.StatusOpen, Price: placed.Price, MinNext: placed.MinNext, EndsAt: placed.EndsAt},
			Mine:  pages.Standing{Max: placed.Max, Leading: placed.Leading}}
		return render(c, fiber.StatusOK, pages.BidFormBody(s.view(c, ""), r))
	}
	return s.bidForm(c, fiber.StatusOK, id, f)
}

// refusedBelow is the least bid a too-low refusal names, or 0.
func refusedBelow(e *auction.Error) int64 {
	if errors.Is(e, auction.ErrTooLow) || errors.Is(e, auction.ErrBelowStart) {
		return e.Amount
	}
	return 0
}

// bidForm answers a bid: the form alone for htmx, else the whole room with
// the form's outcome.
func (s *Server) bidForm(c *fiber.Ctx, status int, id int64, f pages.BidForm) error {
	var r pages.Room
	var err error
	if isFragment(c) {
		// The form alone: the rows reach the page over the socket. The
		// room cache may not have heard yet of what refused this bid; the
		// refusal itself says the least bid it would take.
		var a *auction.Auction
		if a, _, _, err = s.cachedAuction(c, id); err == nil {
			r, err = s.roomOf(c, a)
			r.State.MinNext = max(r.State.MinNext, f.MinNext)
		}
	} else {
		r, err = s.roomWithBids(c, id, 0)
	}
	if err != nil {
		return err
	}
	r.Form = f
	v := s.view(c, r.Title)
	if isFragment(c) {
		if r.Viewer != pages.Bidder || r.State.PhaseAt(r.Now) != parts.PhaseOpen {
			// The form is gone (ended, or the viewer is the seller): show
			// the reason where the form was.
			return render(c, status, pages.BidRefusal(v, r))
		}
		return render(c, status, pages.BidFormBody(v, r))
	}
	if r.Viewer != pages.Bidder || r.State.PhaseAt(r.Now) != parts.PhaseOpen {
		// No form to show the reason next to: say it at the top.
		v.Flash = &views.Flash{Kind: "error", Text: f.Error}
	}
	if r.State.Status == auction.StatusOpen {
		v.Watch = []int64{id}
	}
	return render(c, status, pages.Auction(v, r))
}

// bidLimit limits bids per user; past it the form says so with a 429.
func (s *Server) bidLimit() fiber.Handler {
	return limiter.New(limiter.Config{
		Max:          s.Limits.Bid,
		Expiration:   s.Limits.Window,
		KeyGenerator: byUser("bid:"),
		LimitReached: func(c *fiber.Ctx) error {
			id, err := auctionID(c)
			if err != nil {
				return err
			}
			return s.bidForm(c, fiber.StatusTooManyRequests, id, pages.BidForm{
				Amount: strings.Clone(c.FormValue("amount")), Error: printer(c).T("bid.rate_limited"),
			})
		},
	})
}

// auctionCancel withdraws the seller's auction before its first bid.
func (s *Server) auctionCancel(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	err = auction.Cancel(c.UserContext(), s.DB, id, currentUser(c).ID)
	var ae *auction.Error
	switch {
	case errors.Is(err, auction.ErrNotFound):
		return fiber.ErrNotFound
	case errors.Is(err, auction.ErrNotSeller):
		return refuse(fiber.StatusForbidden, auction.ErrNotSeller.Key())
	case errors.As(err, &ae):
		return refuse(fiber.StatusConflict, ae.Key())
	case err != nil:
		return err
	}
	return redirect(c, views.AuctionURL(id))
}

// imageShow serves a photo (/images/:id) or its thumbnail
// (/images/:id/thumb). Photos never change, so they are cached for a year.
func (s *Server) imageShow(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.ErrNotFound
	}
	thumb := strings.HasSuffix(c.Path(), "/thumb")
	etag := `"img-` + strconv.FormatInt(id, 10) + `"`
	if thumb {
		etag = `"img-` + strconv.FormatInt(id, 10) + `-thumb"`
	}
	if c.Get(fiber.HeaderIfNoneMatch) == etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	body, typ, err := media.Load(c.UserContext(), s.DB, id, thumb)
	if errors.Is(err, media.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, typ)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderETag, etag)
	return c.Send(body)
}
