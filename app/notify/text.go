package notify

import "gavel/app/i18n"

// Text is what notification n says, in p's language: on the page, in the
// live notice and in its mail. It shows public prices only (never a
// maximum).
func Text(p *i18n.Printer, n *Notification) string {
	switch n.Kind {
	case KindOutbid:
		if n.EndReason == "bought" {
			return p.T("live.notice.bought_out", p.Money(n.Amount))
		}
		return p.T("live.notice.outbid", p.Money(n.Amount))
	case KindOutbidAuto:
		return p.T("live.notice.outbid_auto", p.Money(n.Amount))
	case KindAutoBid:
		return p.T("note.auto_bid", p.Money(n.Amount))
	case KindWon:
		if n.EndReason == "bought" {
			return p.T("live.notice.bought", p.Money(n.Amount))
		}
		return p.T("live.notice.won", p.Money(n.Amount))
	case KindLost:
		return p.T("note.lost", p.Money(n.Amount))
	case KindSold:
		return p.T("live.notice.sold", n.Winner, p.Money(n.Amount))
	case KindUnsold:
		return p.T("live.notice.unsold")
	case KindCancelled:
		return p.T("live.notice.cancel")
	case KindReserveNotMet:
		if n.UserID == n.SellerID {
			return p.T("live.notice.reserve_seller", p.Money(n.Amount))
		}
		return p.T("live.notice.reserve_not_met")
	case KindBoughtNow:
		return p.T("live.notice.sold_bought", n.Winner, p.Money(n.Amount))
	case KindEndingSoon:
		return p.T("note.ending_soon", p.Time(n.EndsAt))
	}
	return p.T("note.other")
}
