package i18n

// biddingMessages cover maximum (proxy) bids, soft close, and what pages
// tell crawlers and link previews.
var biddingMessages = map[string]entry{
	"room.amount.hint":         {"최대 입찰가를 입력하세요. 다른 입찰이 들어오면 이 금액까지 최소 단위로 자동 입찰합니다.", "Enter the most you would pay. When others bid, the site bids for you, one increment at a time, up to this amount."},
	"room.bid_leading":         {"입찰했습니다. 최고 입찰자입니다 — 내 최대 입찰가 %s", "Your bid is in. You lead — your maximum %s"},
	"room.bid_outbid":          {"입찰했지만 먼저 들어온 최대 입찰가가 더 높아 곧바로 추월당했습니다. 최소 입찰가는 이제 %s입니다.", "Your bid is in, but an earlier maximum is higher and answered it at once. The minimum bid is now %s."},
	"room.bid_raised":          {"최대 입찰가를 %s(으)로 올렸습니다. 현재 가격은 그대로입니다.", "Your maximum is now %s. The price stays as it was."},
	"room.bid_extended":        {"마감 직전 입찰이라 마감 시각이 %s(으)로 늦춰졌습니다.", "A bid this close to the end moved the end to %s."},
	"room.standing.leading":    {"최고 입찰자입니다 — 내 최대 입찰가 %s", "You lead — your maximum %s"},
	"room.standing.outbid":     {"추월당했습니다 — 내 최대 입찰가 %s", "You have been outbid — your maximum was %s"},
	"room.standing.outbid_now": {"추월당했습니다. 더 높은 최대 입찰가로 다시 입찰할 수 있습니다.", "You have been outbid. You can bid again with a higher maximum."},
	"live.auto":                {"자동 입찰", "automatic bid"},
	"live.extended":            {"%s회 연장됨", "extended ×%s"},
	"live.window":              {"지금 입찰하면 마감이 %s 늦춰집니다.", "A bid now extends the end by %s."},
	"live.notice.outbid_auto":  {"다른 입찰자의 최대 입찰가가 자동으로 추월했습니다. 현재가 %s", "Outbid by an automatic bid. The price is now %s"},
	"sell.field.hard_end":      {"정해진 시각에 정확히 마감 (연장 없음)", "End exactly on time (no extensions)"},
	"sell.hint.hard_end":       {"선택하지 않으면, 마감 %s 전부터 들어온 입찰이 마감을 늦춰 막판 입찰(스나이핑)을 막습니다.", "Unless you tick this, a bid in the last %s moves the end, so last-second sniping does not pay."},
	"bid.suspended":            {"이용이 정지된 계정은 입찰할 수 없습니다.", "A suspended account cannot bid."},
	"live.result.reason":       {"운영자 사유: %s", "Operator's reason: %s"},
	"me.max":                   {"내 최대 입찰가", "Your maximum"},
	"site.description":         {"실시간 경매: 서버가 보내는 카운트다운, 실시간 입찰 기록, 최대 입찰가 자동 입찰.", "Live auctions: a countdown from the server, bids as they happen, and maximum bids placed for you."},
	"meta.open":                {"현재가 %s · 입찰 %s건 · %s 마감", "Now %s · %s bids · ends %s"},
	"meta.sold":                {"%s에 낙찰", "Sold for %s"},
	"meta.closed":              {"종료된 경매", "This auction has ended"},
}
