package i18n

// notifyMessages cover the watch list, the bell, the notifications page,
// ending-soon reminders and mail.
var notifyMessages = map[string]entry{
	"nav.watching":      {"관심 목록", "Watching"},
	"nav.notifications": {"알림", "Notifications"},

	"live.err.after": {"after와 Last-Event-ID는 알림 번호(0 이상의 정수)여야 합니다.", "after and Last-Event-ID take a notification number (a whole number, 0 or more)."},

	"bell.before": {"알림, 읽지 않은 알림 ", "Notifications, "},
	"bell.after":  {"개", " unread"},
	"bell.none":   {"알림, 읽지 않은 알림 없음", "Notifications, none unread"},

	"note.auto_bid":    {"최대 입찰가에 따라 자동 입찰되었습니다. 현재가 %s", "An automatic bid was placed for you. The price is now %s"},
	"note.lost":        {"다른 입찰자가 %s에 낙찰받았습니다.", "Another bidder won it for %s."},
	"note.ending_soon": {"곧 마감됩니다: %s", "Ending soon, at %s"},
	"note.other":       {"새 알림이 있습니다.", "Something happened."},

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

	"profile.mail":            {"메일 알림", "Mail"},
	"profile.mail_to":         {"받을 주소", "Send to"},
	"profile.mail_to.hint":    {"비워 두면 로그인한 계정의 주소(%s)로 보냅니다.", "Leave empty for your sign-in address (%s)."},
	"profile.mail_to.none":    {"비워 두면 메일을 보내지 않습니다. 로그인한 계정이 주소를 알려 주지 않았습니다.", "Leave empty for no mail: your sign-in did not give an address."},
	"profile.mail_to.bad":     {"메일 주소가 아닙니다. 예: name@example.com", "That is not a mail address, e.g. name@example.com."},
	"profile.mail.outbid":     {"더 높은 입찰이 들어왔을 때", "When I am outbid"},
	"profile.mail.won":        {"낙찰받았을 때", "When I win"},
	"profile.mail.sold":       {"내 물건이 팔렸을 때", "When my item sells"},
	"profile.mail.ending":     {"마감 알림", "Ending-soon reminders"},
	"profile.mail.off_server": {"이 사이트는 아직 메일을 보내지 않습니다.", "This site does not send mail yet."},

	"mail.subject":       {"[Gavel] %s: %s", "[Gavel] %s: %s"},
	"mail.footer.outbid": {"입찰한 경매에서 더 높은 입찰이 들어와 보내 드리는 메일입니다.", "You get this mail because you were outbid on an auction you bid on."},
	"mail.footer.won":    {"경매에서 낙찰받아 보내 드리는 메일입니다.", "You get this mail because you won an auction."},
	"mail.footer.sold":   {"내놓은 물건이 팔려 보내 드리는 메일입니다.", "You get this mail because an item you listed sold."},
	"mail.footer.ending": {"관심 등록하거나 입찰한 경매가 곧 끝나 보내 드리는 메일입니다.", "You get this mail because an auction you watch or bid on ends soon."},
	"mail.unsubscribe":   {"이런 메일을 그만 받기: %s", "Stop these mails: %s"},
	"mail.settings":      {"받을 메일 고르기: %s", "Choose your mails: %s"},
	"unsub.title":        {"메일 수신 거부", "Unsubscribe"},
	"unsub.done":         {"이제 이런 메일을 보내지 않습니다: %s", "You will get no more of these mails: %s"},
	"unsub.bad":          {"이 수신 거부 링크는 올바르지 않습니다. 메일에 있는 링크를 그대로 여세요.", "This unsubscribe link is not valid. Open the link from the mail as it is."},
	"unsub.settings":     {"메일 설정으로", "Mail settings"},
	"devmail.title":      {"보낸 메일 (개발용)", "Sent mail (development)"},
	"devmail.intro":      {"SMTP_URL이 없어서 메일을 보내는 대신 여기에 보여 줍니다.", "With no SMTP_URL, mails are shown here instead of sent."},
	"devmail.empty":      {"아직 메일이 없습니다.", "No mail yet."},
	"devmail.to":         {"받는 사람", "To"},
}
