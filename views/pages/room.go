package pages

import (
	"strconv"

	"gavel/views"
)

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
