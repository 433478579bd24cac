package web

import (
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"gavel/app/i18n"
	"gavel/app/moderation"
	"gavel/app/notify"
	"gavel/static"
	"gavel/views"
	"gavel/views/layout"
	"gavel/views/pages"
	"gavel/views/parts"
)

// gallery renders every component with sample data in both languages, for
// designers (development only: the route is not registered in production).
func (s *Server) gallery(c *fiber.Ctx) error {
	v := s.view(c, "Components")
	v.NoIndex = true
	var all []pages.Specimen
	for _, lang := range i18n.Langs {
		all = append(all, specimens(views.Ctx{P: i18n.For(lang), CSRF: v.CSRF, Path: v.Path})...)
	}
	return render(c, fiber.StatusOK, pages.Gallery(v, all))
}

// specimens are the sample states of every component, in the language of v.
func specimens(v views.Ctx) []pages.Specimen {
	now := time.Now()
	p := v.P
	open := parts.State{ID: 1, Status: parts.StatusOpen, Price: 120_000, MinNext: 125_000, BidCount: 7,
		EndsAt: now.Add(26*time.Hour + 14*time.Minute), Leader: "민지"}
	ending := open
	ending.EndsAt = now.Add(42 * time.Second)
	ended := open
	ended.EndsAt = now.Add(-time.Second)
	sold := open
	sold.Status = parts.StatusSold
	unsold := parts.State{ID: 1, Status: parts.StatusUnsold, Price: 50_000, MinNext: 50_000, EndsAt: now.Add(-time.Hour)}
	cancelled := unsold
	cancelled.Status = parts.StatusCancelled
	bids := []parts.Bid{
		{ID: 3, Bidder: "민지", Amount: 120_000, Message: "이건 꼭 갖고 싶어요", At: now.Add(-time.Minute), New: true},
		{ID: 2, Bidder: "Jordan", Amount: 110_000, At: now.Add(-5 * time.Minute)},
		{ID: 1, Bidder: "seoyeon", Amount: 100_000, Message: "first!", At: now.Add(-time.Hour)},
	}
	room := pages.Room{ID: 1, Title: "Leica M3 (1957)", Seller: "camera_kim", StartPrice: 100_000, State: open, Bids: bids, Now: now, Viewer: pages.Bidder}
	refused := room
	refused.Form = pages.BidForm{Amount: "115000", Error: p.T("bid.too_low", p.Money(125_000))}
	room.Mine = pages.Standing{Max: 150_000, Leading: true}
	placed := room
	placed.Form = pages.BidForm{Outcome: pages.Leading}
	answered := room
	answered.Mine = pages.Standing{Max: 118_000}
	answered.Form = pages.BidForm{Outcome: pages.Outbid}
	raised := room
	raised.Mine = pages.Standing{Max: 200_000, Leading: true}
	raised.Form = pages.BidForm{Outcome: pages.Raised}
	window := open
	window.EndsAt, window.Window, window.Until = now.Add(75*time.Second), 2*time.Minute, now.Add(time.Hour)
	extended := window
	extended.Extensions = 3
	inWindow := room
	inWindow.State = extended
	inWindow.Form = pages.BidForm{Outcome: pages.Leading, Extended: true}
	autoBids := []parts.Bid{
		{ID: 5, Bidder: "민지", Amount: 126_000, At: now.Add(-10 * time.Second), Auto: true, New: true},
		{ID: 4, Bidder: "Jordan", Amount: 125_000, Message: "마지막!", At: now.Add(-10 * time.Second)},
	}
	guest := room
	guest.Viewer = pages.Guest
	seller := room
	seller.Viewer = pages.SellerCan
	card := pages.Card{ID: 1, Title: "Leica M3 (1957)", Image: static.URL("img/sample.jpg"), Seller: "camera_kim", State: open}
	sellErr := pages.SellForm{Title: "", StartPrice: "12.5", Duration: "24h0m0s",
		Durations: []pages.Option{{Value: "24h0m0s", Label: p.Duration(24 * time.Hour)}}, Window: p.Remaining(2 * time.Minute),
		Errors: map[string]string{
			"title": p.T("auction.title_required"), "start_price": p.T("sell.price_not_a_number"), "image": p.T("media.not_an_image"),
		}}

	list := []pages.Specimen{
		{Name: "Countdown: running", C: parts.Countdown(p, open, now)},
		{Name: "Countdown: ending", C: parts.Countdown(p, ending, now)},
		{Name: "Countdown: in the soft-close window", C: parts.Countdown(p, window, now)},
		{Name: "Countdown: extended", C: parts.Countdown(p, extended, now)},
		{Name: "Countdown: ended, settling", C: parts.Countdown(p, ended, now)},
		{Name: "Countdown: sold", C: parts.Countdown(p, sold, now)},
		{Name: "Countdown: unsold", C: parts.Countdown(p, unsold, now)},
		{Name: "Countdown: cancelled", C: parts.Countdown(p, cancelled, now)},
		{Name: "Result: settling", C: parts.Result(p, ended, parts.InPage)},
		{Name: "Result: sold", C: parts.Result(p, sold, parts.InPage)},
		{Name: "Result: unsold", C: parts.Result(p, unsold, parts.InPage)},
		{Name: "Result: cancelled", C: parts.Result(p, cancelled, parts.InPage)},
		{Name: "Price, bid count, minimum, leader, end", C: templ.Join(
			parts.Price(p, open, parts.InPage), parts.BidCount(p, open, parts.InPage), parts.MinBid(p, open, parts.InPage),
			parts.Leader(p, open, parts.InPage), parts.EndsAt(p, open, parts.InPage))},
		{Name: "Bid history", C: parts.BidHistory(p, 1, bids)},
		{Name: "Bid history: empty", C: parts.BidHistory(p, 1, nil)},
		{Name: "Bid history: an automatic bid answers a maximum", C: parts.BidHistory(p, 1, autoBids)},
		{Name: "End time: extended", C: parts.EndsAt(p, extended, parts.InPage)},
		{Name: "Auction card", C: pages.AuctionCard(v, card, now)},
		{Name: "Bid form", C: pages.BidPanel(v, room)},
		{Name: "Bid form: refused", C: pages.BidPanel(v, refused)},
		{Name: "Bid form: placed, leading with a maximum", C: pages.BidPanel(v, placed)},
		{Name: "Bid form: placed, answered by an earlier maximum", C: pages.BidPanel(v, answered)},
		{Name: "Bid form: maximum raised", C: pages.BidPanel(v, raised)},
		{Name: "Bid form: a bid in the window extended the end", C: pages.BidPanel(v, inWindow)},
		{Name: "My standing: leading", C: pages.MyStanding(v, 1, pages.Standing{Max: 150_000, Leading: true})},
		{Name: "My standing: outbid", C: pages.MyStanding(v, 1, pages.Standing{Max: 118_000})},
		{Name: "Bid panel: signed out", C: pages.BidPanel(v, guest)},
		{Name: "Bid panel: seller", C: pages.BidPanel(v, seller)},
		{Name: "Sell form: errors", C: pages.SellFormBody(v, sellErr)},
		{Name: "Empty state", C: pages.Empty(p.T("home.empty.title"), p.T("home.empty.text"), "/auctions/new", p.T("home.empty.cta"))},
		{Name: "Notice", C: parts.Notice("Leica M3 (1957)", "/auctions/1", p.T("live.notice.outbid", p.Money(130_000)))},
		{Name: "Notice: outbid by an automatic bid", C: parts.Notice("Leica M3 (1957)", "/auctions/1", p.T("live.notice.outbid_auto", p.Money(130_000)))},
		{Name: "Notice: outbid, with the room's standing (sent out of band)", C: parts.OutbidNotice(p, 1, "Leica M3 (1957)", "/auctions/1", p.T("live.notice.outbid", p.Money(130_000)))},
	}
	suspendedAt := now.Add(-time.Hour)
	adminResults := pages.Admin{
		Auctions: []moderation.AuctionRow{
			{ID: 1, Title: "Leica M3 (1957)", Seller: "camera_kim", Status: "open", Price: 120_000, BidCount: 7},
			{ID: 2, Title: "Replica watch", Seller: "spammer", Status: "sold", Price: 55_000, BidCount: 2, Hidden: true},
		},
		Users: []moderation.UserRow{
			{ID: 1, Provider: "github", ProviderID: "4242", Nick: "camera_kim", Balance: 1_250_000},
			{ID: 2, Provider: "kakao", ProviderID: "99", Nick: "spammer", Balance: 0, SuspendedAt: &suspendedAt},
		},
	}
	adminLog := []moderation.Entry{
		{ID: 2, Admin: "operator", Action: "suspend", UserID: 2, User: "spammer", Reason: "Shill bidding", At: now.Add(-time.Hour)},
		{ID: 1, Admin: "operator", Action: "cancel", AuctionID: 2, Auction: "Replica watch", Reason: "Counterfeit", At: now.Add(-2 * time.Hour)},
	}
	cancelled.Reason = "Counterfeit"
	list = append(list,
		pages.Specimen{Name: "Result: cancelled by an operator, with the reason", C: parts.Result(p, cancelled, parts.InPage)},
		pages.Specimen{Name: "Moderation: search results with their actions", C: pages.AdminResults(v, adminResults)},
		pages.Specimen{Name: "Moderation: the log", C: pages.AdminLog(v, adminLog)},
	)
	list = append(list, noteSpecimens(v, now)...)
	list = append(list, reserveSpecimens(v, open, card, now)...)
	for _, kind := range []string{"ok", "error", "info"} {
		f := &views.Flash{Kind: kind, Text: p.T("sell.created")}
		list = append(list, pages.Specimen{Name: "Flash: " + kind, C: layout.Flash(f)})
	}
	list = append(list, sellerSpecimens(v, now)...)
	for i := range list {
		list[i].Lang = string(p.Lang())
	}
	return list
}

// noteSpecimens are the bell, every kind of notification (as the live
// notice and as a row of /me/notifications), the watch toggle and the
// notification settings.
func noteSpecimens(v views.Ctx, now time.Time) []pages.Specimen {
	p := v.P
	read := now.Add(-time.Minute)
	list := []pages.Specimen{
		{Name: "Bell: nothing unread", C: parts.Bell(p, 0, false)},
		{Name: "Bell: 3 unread", C: parts.Bell(p, 3, false)},
		{Name: "Bell: 120 unread", C: parts.Bell(p, 120, false)},
	}
	for i, kind := range notify.Kinds {
		n := notify.Notification{ID: int64(i + 1), AuctionID: 1, Kind: kind, Amount: 130_000, CreatedAt: now.Add(-time.Duration(i) * time.Minute),
			Title: "Leica M3 (1957)", Winner: "민지", EndsAt: now.Add(time.Hour)}
		list = append(list, pages.Specimen{Name: "Notification " + kind + ": live notice", C: parts.LiveNote(p, &n, 2)})
		list = append(list, pages.Specimen{Name: "Notification " + kind + ": unread row", C: parts.NoteItem(p, &n)})
		if kind == notify.KindOutbid {
			n.ReadAt = &read
			list = append(list, pages.Specimen{Name: "Notification " + kind + ": read row", C: parts.NoteItem(p, &n)})
		}
	}
	list = append(list,
		pages.Specimen{Name: "Watch toggle: not watching", C: parts.WatchButton(p, v.CSRF, 1, false, "/auctions/1", "")},
		pages.Specimen{Name: "Watch toggle: watching", C: parts.WatchButton(p, v.CSRF, 2, true, "/auctions/2", "")},
		pages.Specimen{Name: "Watch toggle: refused, the list is full", C: parts.WatchButton(p, v.CSRF, 3, false, "/auctions/3", p.T("watch.too_many", notify.MaxWatches))},
		pages.Specimen{Name: "Watcher count (the seller's room)", C: parts.WatcherCount(p, 12)},
		pages.Specimen{Name: "Notification settings", C: pages.PrefsForm(v, pages.Prefs{Lead: notify.DefaultLead, Leads: notify.Leads})},
		pages.Specimen{Name: "Notification settings: saved", C: pages.PrefsForm(v, pages.Prefs{Lead: 15, Leads: notify.Leads, Saved: true})},
		pages.Specimen{Name: "Notification settings: refused", C: pages.PrefsForm(v, pages.Prefs{Lead: 60, Leads: notify.Leads, Error: p.T("profile.remind.bad")})},
		pages.Specimen{Name: "Notification settings: with mail", C: pages.PrefsForm(v, pages.Prefs{Lead: 60, Leads: notify.Leads, Sends: true,
			ProviderEmail: "minji@example.com", MailKinds: notify.MailKinds, Mail: map[string]bool{notify.MailOutbid: true, notify.MailWon: true}})},
		pages.Specimen{Name: "Notification settings: a bad mail address", C: pages.PrefsForm(v, pages.Prefs{Lead: 60, Leads: notify.Leads, Sends: true,
			MailTo: "minji@", MailKinds: notify.MailKinds, Mail: map[string]bool{}, MailError: p.T("profile.mail_to.bad")})},
		pages.Specimen{Name: "Unsubscribed from a kind of mail", C: pages.UnsubscribeBody(v, p.T(pages.MailKindKeys[notify.MailOutbid]), true)},
		pages.Specimen{Name: "Unsubscribe: a link that is not valid", C: pages.UnsubscribeBody(v, "", false)},
		pages.Specimen{Name: "Letter opener: one mail (development)", C: pages.DevMailItem(v, notify.Sent{NotificationID: 1, To: "minji@example.com",
			Subject: p.T("mail.subject", "Leica M3 (1957)", p.T("live.notice.outbid", p.Money(130_000))),
			Body:    "Leica M3 (1957)\n" + p.T("live.notice.outbid", p.Money(130_000)) + "\n\nhttp://127.0.0.1:8080/auctions/1\n", CreatedAt: now})},
	)
	return list
}

// reserveSpecimens are the states of the reserve and Buy It Now
// components.
func reserveSpecimens(v views.Ctx, open parts.State, card pages.Card, now time.Time) []pages.Specimen {
	p := v.P
	notMet := open
	notMet.HasReserve, notMet.BuyNow, notMet.BuyNowOpen = true, 300_000, true
	met := notMet
	met.ReserveMet, met.BuyNowOpen = true, false
	bought := met
	bought.Status, bought.EndReason, bought.Price, bought.Leader = parts.StatusSold, parts.ReasonBought, 300_000, "Jordan"
	noReserve := notMet
	noReserve.Status, noReserve.EndReason, noReserve.EndsAt = parts.StatusUnsold, parts.ReasonReserveNotMet, now.Add(-time.Minute)
	offerCard, metCard := card, card
	offerCard.State, metCard.State = notMet, met
	purchase := []parts.Bid{
		{ID: 9, Bidder: "Jordan", Amount: 300_000, At: now.Add(-5 * time.Second), Purchase: true, New: true},
		{ID: 8, Bidder: "민지", Amount: 120_000, At: now.Add(-time.Minute)},
	}
	confirm := pages.BuyConfirm{ID: 1, Title: "Leica M3 (1957)", Price: 300_000, Offered: true, Available: 1_250_000}
	poor := confirm
	poor.Available, poor.Error = 120_000, p.T("bid.insufficient_funds", p.Money(120_000))
	gone := pages.BuyConfirm{ID: 1, Title: "Leica M3 (1957)", Price: 300_000, Error: p.T("buy.gone")}
	sellTerms := pages.SellForm{Title: "Leica M3 (1957)", StartPrice: "100000", Reserve: "90000", BuyNow: "120000", Duration: "24h0m0s",
		Durations: []pages.Option{{Value: "24h0m0s", Label: p.Duration(24 * time.Hour)}},
		Errors: map[string]string{
			"reserve": p.T("auction.reserve_below_start"), "buy_now": p.T("auction.buy_now_below_start"),
		}}
	return []pages.Specimen{
		{Name: "Reserve: not met", C: parts.ReserveStatus(p, notMet, parts.InPage)},
		{Name: "Reserve: met", C: parts.ReserveStatus(p, met, parts.InPage)},
		{Name: "Bid panel: seller, with their own reserve", C: pages.BidPanel(v, pages.Room{ID: 1, State: notMet, Now: now,
			Viewer: pages.SellerCan, MyReserve: 150_000})},
		{Name: "Buy It Now: offered", C: parts.BuyNowOffer(p, notMet, views.BuyURL(1), parts.InPage)},
		{Name: "Buy It Now: offered, the seller's own room (price only)", C: parts.BuyNowOffer(p, notMet, "", parts.InPage)},
		{Name: "Buy It Now: withdrawn (an empty placeholder)", C: parts.BuyNowOffer(p, met, "", parts.InPage)},
		{Name: "Buy It Now: confirmation dialog", C: pages.BuyDialog(v, confirm)},
		{Name: "Buy It Now: refused for funds", C: pages.BuyDialog(v, poor)},
		{Name: "Buy It Now: no longer offered", C: pages.BuyDialog(v, gone)},
		{Name: "Auction card: reserve not met, Buy It Now", C: pages.AuctionCard(v, offerCard, now)},
		{Name: "Auction card: reserve met", C: pages.AuctionCard(v, metCard, now)},
		{Name: "Bid history: bought outright", C: parts.BidHistory(p, 1, purchase)},
		{Name: "Countdown: bought", C: parts.Countdown(p, bought, now)},
		{Name: "Countdown: unsold, reserve not met", C: parts.Countdown(p, noReserve, now)},
		{Name: "Result: bought outright", C: parts.Result(p, bought, parts.InPage)},
		{Name: "Result: reserve not met", C: parts.Result(p, noReserve, parts.InPage)},
		{Name: "Sell form: reserve and Buy It Now errors", C: pages.SellFormBody(v, sellTerms)},
		{Name: "Notice: bought outright by someone else", C: parts.Notice("Leica M3 (1957)", "/auctions/1", p.T("live.notice.bought_out", p.Money(300_000)))},
		{Name: "Notice: reserve not met (seller)", C: parts.Notice("Leica M3 (1957)", "/auctions/1", p.T("live.notice.reserve_seller", p.Money(120_000)))},
		{Name: "Notice: reserve not met (leader)", C: parts.Notice("Leica M3 (1957)", "/auctions/1", p.T("live.notice.reserve_not_met"))},
		{Name: "Notice: bought", C: parts.Notice("Leica M3 (1957)", "/auctions/1", p.T("live.notice.bought", p.Money(300_000)))},
	}
}
