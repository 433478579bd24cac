package web

import (
	"github.com/gofiber/fiber/v2/middleware/recover"

	"gavel/app/auth"
)

// routes is every route of Gavel, in one place.
func (s *Server) routes() {
	app := s.app
	app.Use(s.observe)
	app.Use(requestIDs)
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: s.logPanic}))
	app.Use(s.accessLog)
	app.Use(securityHeaders(s.Config.Secure()))
	app.Use(compressExceptStreams())

	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/sitemap.xml", s.sitemap) // before any session work: crawlers keep no cookie
	app.Get("/static/*", staticFile)
	// Files that every visitor, crawler and cache fetches: served before
	// any session work, and never with a cookie.
	app.Get("/images/:id", s.imageShow)
	app.Get("/images/:id/thumb", s.imageShow)
	app.Get("/favicon.ico", favicon)
	app.Get("/robots.txt", robots)

	app.Use(requestDeadline)
	app.Use(s.language)
	app.Use(s.sessionUser)
	app.Use(suspendedOut)
	app.Use(s.csrfGuard())

	lim := s.Limits
	loginLimit := rateLimit(lim.Login, lim.Window, byIP("login:"), "auth.rate_limited")
	depositByUser := rateLimit(lim.DepositUser, lim.Window, byUser("deposit:"), "wallet.rate_limited")
	depositByIP := rateLimit(lim.DepositIP, lim.Window, byIP("deposit:"), "wallet.rate_limited")
	// Every listing decodes a photo: a user cannot keep the decode slots busy.
	listingLimit := rateLimit(lim.Listing, lim.ListingWindow, byUser("listing:"), "sell.rate_limited")
	// Edits may add photos too, but fixing a listing must not use up the
	// seller's new listings: a budget of their own, of the same size.
	editLimit := rateLimit(lim.Listing, lim.ListingWindow, byUser("edit:"), "sell.edit_rate_limited")

	app.Get("/", s.home)
	app.Post("/lang", s.langSet)

	app.Get("/auctions/new", requireUser, s.sellForm)
	app.Post("/auctions", requireUser, listingLimit, s.auctionCreate)
	app.Get("/auctions/:id", s.auctionShow)
	app.Get("/auctions/:id/bids", s.bidsOlder)
	app.Post("/auctions/:id/bids", requireUser, s.bidLimit(), s.bidCreate)
	app.Post("/auctions/:id/cancel", requireUser, s.auctionCancel)
	app.Get("/auctions/:id/buy", requireUser, s.buyForm)
	app.Post("/auctions/:id/buy", requireUser, rateLimit(lim.Bid, lim.Window, byUser("buy:"), "bid.rate_limited"), s.buyCreate)
	app.Get("/auctions/:id/listing", s.listingShow)
	app.Get("/auctions/:id/edit", requireUser, s.editShow)
	app.Post("/auctions/:id/edit", requireUser, editLimit, s.editSubmit)
	app.Post("/auctions/:id/photos/:image/move", requireUser, s.photoMove)
	app.Post("/auctions/:id/photos/:image/remove", requireUser, s.photoRemove)
	app.Post("/auctions/:id/addenda", requireUser, s.addendumCreate)
	app.Post("/auctions/:id/relist", requireUser, listingLimit, s.relistCreate)
	app.Get("/me/won", requireUser, s.myWon)
	app.Get("/me/selling", requireUser, s.mySelling)
	app.Get("/me/bids", requireUser, s.myBids)
	app.Post("/auctions/:id/watch", requireUser, s.watchToggle)
	app.Get("/me/watching", requireUser, s.myWatching)
	app.Get("/me/notifications", requireUser, s.myNotifications)
	app.Post("/me/notifications/read", requireUser, s.notificationsRead)
	// Mails' unsubscribe links work without signing in: the token is
	// signed.
	app.Get("/mail/unsubscribe", s.unsubscribe)

	app.Get("/login", s.loginPage)
	app.Post("/logout", s.logout)
	if s.Auth.Has(auth.DevProviderName) {
		app.Get(auth.DevFormPath, s.devLoginForm)
		app.Post(auth.DevFormPath, loginLimit, s.devLoginSubmit)
	}
	// Each begun sign-in writes its state beside a session: as throttled as
	// the sign-ins themselves, counted apart so one sign-in is one of each.
	authBeginLimit := rateLimit(lim.Login, lim.Window, byIP("auth-begin:"), "auth.rate_limited")
	app.Get("/auth/:provider", authBeginLimit, s.authBegin)
	app.Get("/auth/:provider/callback", loginLimit, s.authCallback)

	app.Get("/me/profile", requireUser, s.profileShow)
	app.Post("/me/profile", requireUser, s.profileUpdate)
	app.Post("/me/profile/notifications", requireUser, s.prefsUpdate)
	app.Get("/wallet", requireUser, s.walletShow)
	app.Post("/wallet/deposits", requireUser, depositByIP, depositByUser, s.depositCreate)
	// Live streams: after the language (and the session, which names the
	// user whose notices /events carries). isStream keeps compression off.
	app.Get("/events", s.events)
	app.Get("/auctions/:id/ws", s.auctionSocket)

	s.adminRoutes()
	if !s.Config.IsProduction() {
		app.Get("/dev/components", s.gallery)
		app.Get("/dev/mail", s.devMail)
	}

	app.Use(s.notFound)
}
