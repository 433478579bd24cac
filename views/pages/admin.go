package pages

// adminStatusKeys and adminActionKeys are the catalog keys of auction
// statuses and logged actions, as the operators' page shows them.
var (
	adminStatusKeys = map[string]string{
		"open": "admin.status.open", "sold": "admin.status.sold",
		"unsold": "admin.status.unsold", "cancelled": "admin.status.cancelled",
	}
	adminActionKeys = map[string]string{
		"cancel": "admin.did.cancel", "hide": "admin.did.hide", "unhide": "admin.did.unhide",
		"suspend": "admin.did.suspend", "unsuspend": "admin.did.unsuspend",
	}
)
