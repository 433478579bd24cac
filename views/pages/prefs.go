package pages

// leadKeys are the catalog keys of the reminder lead times (minutes).
var leadKeys = map[int]string{
	15:  "profile.remind.15",
	60:  "profile.remind.60",
	180: "profile.remind.180",
	0:   "profile.remind.0",
}

// MailKindKeys are the catalog keys of the mail kinds, as the profile and
// the unsubscribe page name them.
var MailKindKeys = map[string]string{
	"outbid": "profile.mail.outbid",
	"won":    "profile.mail.won",
	"sold":   "profile.mail.sold",
	"ending": "profile.mail.ending",
}
