package parts

import (
	"strconv"

	"gavel/app/i18n"
	"gavel/app/notify"
)

// NoteText is what a notification says, in p's language.
func NoteText(p *i18n.Printer, n *notify.Notification) string { return notify.Text(p, n) }

// outbidKind reports whether a notification of kind changes the reader's
// standing on the auction's page.
func outbidKind(kind string) bool {
	return kind == notify.KindOutbid || kind == notify.KindOutbidAuto
}

func noteDOMID(id int64) string { return "note-" + strconv.FormatInt(id, 10) }
