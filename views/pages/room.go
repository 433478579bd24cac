package pages

import (
	"crypto/rand"
	"encoding/base64"
	"strconv"

	"gavel/views"
	"gavel/views/parts"
)

// formKey is a new one-time key for a bid form: the server answers a
// second submission of the same form as it answered the first (a double
// click, a retry after a lost answer) instead of judging it again.
func formKey() string {
	b := make([]byte, 16)
	rand.Read(b) //nolint:errcheck // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func olderBidsURL(id, before int64) string {
	return views.AuctionURL(id) + "/bids?before=" + strconv.FormatInt(before, 10)
}

// standingKeys are the catalog keys of a bidder's standing.
var standingKeys = map[string]string{
	"leading": "me.standing.leading",
	"outbid":  "me.standing.outbid",
	"won":     "me.standing.won",
	"lost":    "me.standing.lost",
}

// buyLink is where the room's Buy It Now leads this viewer: the
// confirmation, for anyone but the seller while the auction runs.
func buyLink(r Room) string {
	if r.Viewer == Seller || r.Viewer == SellerCan || r.State.PhaseAt(r.Now) != parts.PhaseOpen {
		return ""
	}
	return views.BuyURL(r.ID)
}
