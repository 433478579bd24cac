package i18n

// catalog holds every user-facing message. Each area of the site keeps its
// messages in its own file (catalog_*.go); keys are "area.name".
var catalog = merge(coreMessages, authMessages, auctionMessages, liveMessages, pagesMessages, biddingMessages, adminMessages, securityMessages, reserveMessages, notifyMessages, sellerMessages)

func merge(parts ...map[string]entry) map[string]entry {
	all := map[string]entry{}
	for _, part := range parts {
		for k, v := range part {
			if _, dup := all[k]; dup {
				panic("i18n: message " + k + " defined twice") // caught by every test run
			}
			all[k] = v
		}
	}
	return all
}

// Has reports whether key is in the catalog.
func Has(key string) bool {
	_, ok := catalog[key]
	return ok
}
