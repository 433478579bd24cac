package i18n

// notifyMessages cover the watch list, the bell, the notifications page,
// ending-soon reminders and mail.
var notifyMessages = map[string]entry{
	"nav.watching":      {"관심 목록", "Watching"},
	"nav.notifications": {"알림", "Notifications"},

	"live.err.after": {"after와 Last-Event-ID는 알림 번호(0 이상의 정수)여야 합니다.", "after and Last-Event-ID take a notification number (a whole number, 0 or more)."},

	"bell.label": {"알림, 읽지 않은 알림 %d개", "Notifications, %d unread"},

	"note.auto_bid":        {"최대 입찰가에 따라 자동 입찰되었습니다. 현재가 %s", "An automatic bid was placed for you. The price is now %s"},
	"note.lost":            {"다른 입찰자가 %s에 낙찰받았습니다.", "Another bidder won it for %s."},
	"note.reserve_not_met": {"최저 낙찰가에 이르지 못해 유찰되었습니다. 최고 입찰 %s", "Ended: the reserve was not met. Highest bid %s"},
	"note.bought_now":      {"%s 님이 즉시 구매했습니다: %s", "Bought now by %s for %s."},
	"note.ending_soon":     {"곧 마감됩니다: %s", "Ending soon, at %s"},
	"note.other":           {"새 알림이 있습니다.", "Something happened."},

	"notes.title":       {"알림", "Notifications"},
	"notes.empty.title": {"알림이 없습니다", "No notifications"},
	"notes.empty.text":  {"입찰하거나 관심 등록한 경매에 일이 생기면 여기에 알려 드립니다.", "When something happens to an auction you bid on or watch, you will find it here."},
	"notes.mark_all":    {"모두 읽음으로 표시", "Mark all read"},
	"notes.marked":      {"알림을 모두 읽음으로 표시했습니다.", "All notifications are marked read."},
	"notes.more":        {"이전 알림", "Older notifications"},
	"notes.unread":      {"새 알림", "New"},

	"watch.label":    {"관심", "Watch"},
	"watch.count":    {"관심 등록 %d명", "%d watching"},
	"watch.too_many": {"관심 목록에는 %d개까지 담을 수 있습니다. 다른 경매를 먼저 빼 주세요.", "You can watch at most %d auctions. Remove one first."},
	"watch.own":      {"내 경매는 관심 등록할 수 없습니다.", "You cannot watch your own listing."},
	"watch.gone":     {"없는 경매입니다.", "There is no such auction."},

	"me.watching.title":       {"관심 목록", "Watching"},
	"me.watching.ended":       {"최근 끝난 경매", "Recently ended"},
	"me.watching.empty.title": {"관심 등록한 경매가 없습니다", "You are not watching anything"},
	"me.watching.empty.text":  {"경매의 ‘관심’ 버튼을 누르면 여기에 모이고, 마감 전에 알려 드립니다.", "Press “Watch” on an auction to keep it here and be reminded before it ends."},

	"profile.remind":      {"마감 알림", "Ending-soon reminder"},
	"profile.remind.hint": {"관심 등록하거나 입찰 중인 경매가 끝나기 얼마 전에 알려 드릴까요?", "How long before an auction you watch or bid on ends should we remind you?"},
	"profile.remind.15":   {"15분 전", "15 minutes before"},
	"profile.remind.60":   {"1시간 전", "1 hour before"},
	"profile.remind.180":  {"3시간 전", "3 hours before"},
	"profile.remind.0":    {"알리지 않음", "Off"},
	"profile.remind.bad":  {"목록에서 고르세요.", "Choose one of the list."},
}
