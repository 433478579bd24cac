package i18n

// reserveMessages cover the reserve price and Buy It Now: the sell form's
// fields, the room's badges and dialog, results, notices and refusals.
var reserveMessages = map[string]entry{
	"sell.field.reserve":        {"최저 낙찰가 (원, 선택)", "Reserve price (won, optional)"},
	"sell.hint.reserve":         {"경매가 끝날 때 가격이 이 금액에 못 미치면 팔리지 않습니다. 입찰자에게는 금액이 아니라 도달 여부만 보입니다. 시작 가격 이상.", "If the price is below this at the end, the item does not sell. Bidders see only whether it is met, never the amount. At least the starting price."},
	"sell.field.buy_now":        {"즉시 구매가 (원, 선택)", "Buy It Now price (won, optional)"},
	"sell.hint.buy_now":         {"누구나 이 가격에 곧바로 살 수 있습니다. 첫 입찰 전까지, 최저 낙찰가가 있으면 도달 전까지. 시작 가격의 1.3배 이상이고 최저 낙찰가 이상.", "Anyone can buy at this price at once: until the first bid, or with a reserve until it is met. At least 1.3 times the starting price, and at least the reserve."},
	"sell.reserve_not_a_number": {"최저 낙찰가는 원 단위의 정수로 입력해 주세요.", "Enter the reserve price as a whole number of won."},
	"sell.buy_now_not_a_number": {"즉시 구매가는 원 단위의 정수로 입력해 주세요.", "Enter the Buy It Now price as a whole number of won."},

	"auction.reserve_invalid":       {"최저 낙찰가는 ₩1,000,000,000,000 이하의 정수여야 합니다.", "The reserve price must be a whole amount up to ₩1,000,000,000,000."},
	"auction.reserve_below_start":   {"최저 낙찰가는 시작 가격 이상이어야 합니다.", "The reserve price must be at least the starting price."},
	"auction.buy_now_invalid":       {"즉시 구매가는 ₩1,000,000,000,000 이하의 정수여야 합니다.", "The Buy It Now price must be a whole amount up to ₩1,000,000,000,000."},
	"auction.buy_now_below_start":   {"즉시 구매가는 시작 가격의 1.3배 이상이어야 합니다.", "The Buy It Now price must be at least 1.3 times the starting price."},
	"auction.buy_now_below_reserve": {"즉시 구매가는 최저 낙찰가 이상이어야 합니다.", "The Buy It Now price must be at least the reserve price."},

	"room.my_reserve":        {"내 최저 낙찰가: %s (나에게만 보입니다)", "Your reserve: %s (only you see it)"},
	"live.reserve.met":       {"최저 낙찰가 도달", "Reserve met"},
	"live.reserve.not_met":   {"최저 낙찰가 미달", "Reserve not met"},
	"live.buy_now":           {"즉시 구매가", "Buy It Now"},
	"live.buy_now.action":    {"%s에 즉시 구매", "Buy It Now for %s"},
	"live.buy_now.sign_in":   {"로그인하고 즉시 구매", "Sign in to buy it now"},
	"live.purchase":          {"즉시 구매", "Buy It Now"},
	"live.bought":            {"즉시 구매됨", "Bought"},
	"live.unsold_reserve":    {"유찰 (최저 낙찰가 미달)", "Unsold: reserve not met"},
	"live.result.bought":     {"%s 님이 즉시 구매했습니다:", "Bought outright by %s for"},
	"live.result.no_reserve": {"최저 낙찰가에 이르지 못해 유찰되었습니다. 최고 입찰가:", "The reserve was not met, so the item is unsold. Highest bid:"},

	"live.notice.bought_out":      {"다른 사용자가 %s에 즉시 구매해 경매가 끝났습니다.", "Someone bought it outright for %s; the auction is over."},
	"live.notice.bought":          {"즉시 구매했습니다: %s", "You bought it for %s"},
	"live.notice.sold_bought":     {"%s 님이 %s에 즉시 구매했습니다.", "Bought outright by %s for %s."},
	"live.notice.reserve_seller":  {"최저 낙찰가 미달로 유찰되었습니다 (최고 입찰가 %s).", "Ended: reserve not met (highest bid %s)."},
	"live.notice.reserve_not_met": {"최저 낙찰가에 이르지 못해 낙찰되지 않았습니다. 묶였던 금액은 풀렸습니다.", "Reserve not met: the item was not sold, and your maximum is released."},
	"bid.bought":                  {"방금 다른 사용자가 즉시 구매해 경매가 끝났습니다.", "Someone has just bought this item outright; the auction is over."},
	"buy.own_auction":             {"자신의 상품은 구매할 수 없습니다.", "You cannot buy your own item."},
	"buy.gone":                    {"즉시 구매는 더 이상 할 수 없습니다. 먼저 들어온 입찰이 있습니다.", "Buy It Now is no longer offered: a bid came first."},
	"buy.price_changed":           {"즉시 구매가가 %s(으)로 바뀌었습니다. 확인하고 다시 구매해 주세요.", "The Buy It Now price is now %s. Check it and confirm again."},
	"buy.title":                   {"즉시 구매", "Buy It Now"},
	"buy.confirm.text":            {"「%s」을(를) %s에 곧바로 구매합니다. 경매는 바로 끝나고 대금은 잔액에서 빠져나갑니다.", "You buy “%s” for %s now. The auction ends at once and the money leaves your balance."},
	"buy.confirm.available":       {"사용 가능한 잔액: %s", "Available to spend: %s"},
	"buy.confirm":                 {"%s에 구매", "Buy for %s"},
	"buy.cancel":                  {"취소", "Cancel"},
	"buy.back":                    {"경매로 돌아가기", "Back to the auction"},
	"buy.done":                    {"즉시 구매했습니다: %s", "You bought it for %s."},
	"buy.unavailable":             {"이 경매는 지금 즉시 구매할 수 없습니다.", "This auction cannot be bought outright now."},
}
