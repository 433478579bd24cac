package parts

import (
	"strconv"

	"gavel/app/i18n"
	"gavel/app/notify"
)

// NoteText is what a notification says, in p's language. It shows public
// prices only (a maximum is never in a notification).
func NoteText(p *i18n.Printer, n *notify.Notification) string {
	switch n.Kind {
	case notify.KindOutbid:
		return p.T("live.notice.outbid", p.Money(n.Amount))
	case notify.KindOutbidAuto:
		return p.T("live.notice.outbid_auto", p.Money(n.Amount))
	case notify.KindAutoBid:
		return p.T("note.auto_bid", p.Money(n.Amount))
	case notify.KindWon:
		return p.T("live.notice.won", p.Money(n.Amount))
	case notify.KindLost:
		return p.T("note.lost", p.Money(n.Amount))
	case notify.KindSold:
		return p.T("live.notice.sold", n.Winner, p.Money(n.Amount))
	case notify.KindUnsold:
		return p.T("live.notice.unsold")
	case notify.KindCancelled:
		return p.T("live.notice.cancel")
	case notify.KindReserveNotMet:
		return p.T("note.reserve_not_met", p.Money(n.Amount))
	case notify.KindBoughtNow:
		return p.T("note.bought_now", n.Winner, p.Money(n.Amount))
	case notify.KindEndingSoon:
		return p.T("note.ending_soon", p.Time(n.EndsAt))
	}
	return p.T("note.other")
}

// outbidKind reports whether a notification of kind changes the reader's
// standing on the auction's page.
func outbidKind(kind string) bool {
	return kind == notify.KindOutbid || kind == notify.KindOutbidAuto
}

func noteDOMID(id int64) string { return "note-" + strconv.FormatInt(id, 10) }
