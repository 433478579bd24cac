package i18n

// liveMessages are the live countdown, bid history, results and notices.
var liveMessages = map[string]entry{
	"live.left":      {"%s 남음", "%s left"},
	"live.ends":      {"마감", "Ends"},
	"live.ended":     {"마감됨", "Ended"},
	"live.sold":      {"낙찰", "Sold"},
	"live.unsold":    {"유찰", "Unsold"},
	"live.cancelled": {"취소됨", "Cancelled"},

	"live.result.sold":      {"%s 님이 낙찰받았습니다:", "Won by %s for"},
	"live.result.unsold":    {"입찰 없이 경매가 끝났습니다.", "The auction ended without bids."},
	"live.result.cancelled": {"취소된 경매입니다.", "This auction was cancelled."},
	"live.result.ended":     {"경매가 끝났습니다. 결과를 정산하고 있습니다…", "The auction has ended. Settling the result…"},

	"live.history":       {"입찰 기록", "Bid history"},
	"live.history.empty": {"아직 입찰이 없습니다. 첫 입찰자가 되어 보세요.", "No bids yet. Be the first."},
	"live.col.bidder":    {"입찰자", "Bidder"},
	"live.col.amount":    {"금액", "Amount"},
	"live.col.message":   {"메시지", "Message"},
	"live.col.time":      {"시각", "Time"},
	"live.bids":          {"입찰 %s건", "%s bids"},
	"live.min_next":      {"최소 입찰가", "Minimum bid"},
	"live.leader.none":   {"아직 입찰이 없습니다", "No bids yet"},

	"live.notice.outbid": {"더 높은 입찰이 들어왔습니다. 현재가 %s", "You have been outbid. The price is now %s"},
	"live.notice.won":    {"낙찰받았습니다: %s", "You won it for %s"},
	"live.notice.sold":   {"%s 님에게 %s에 팔렸습니다.", "Sold to %s for %s."},
	"live.notice.unsold": {"입찰 없이 끝났습니다.", "It ended without bids."},
	"live.notice.cancel": {"경매가 취소되었습니다.", "The auction was cancelled."},

	"live.err.ids":     {"auctions에는 쉼표로 구분한 경매 번호를 %d개까지 넣을 수 있습니다.", "auctions takes up to %d auction numbers separated by commas."},
	"live.err.nothing": {"볼 경매가 없습니다: ?auctions=1,2,3 처럼 지정하세요.", "Nothing to watch: name auctions as ?auctions=1,2,3."},
	"live.err.busy":    {"이 주소에서 연결이 너무 많습니다. 잠시 후 다시 시도하세요.", "Too many live connections from your address. Try again shortly."},
	"live.err.origin":  {"다른 사이트에서 연 연결은 받지 않습니다.", "Connections opened from another site are refused."},
}
