package web

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gavel/app/wallet"
	"gavel/views"
	"gavel/views/pages"
)

// walletKinds are the catalog keys of the ledger's kinds.
var walletKinds = map[string]string{
	"signup":   "wallet.kind.signup",
	"deposit":  "wallet.kind.deposit",
	"purchase": "wallet.kind.purchase",
	"sale":     "wallet.kind.sale",
}

// walletShow is the wallet: balance, what leading bids commit, what is
// left, and the ledger 20 rows a page (?before=ID pages back).
func (s *Server) walletShow(c *fiber.Ctx) error {
	m, err := s.walletView(c)
	if err != nil {
		return err
	}
	if c.Query("deposited") != "" {
		// The amount comes from the one-time flash the deposit left beside
		// the session, never from the URL: a link cannot make the page
		// claim a deposit that did not happen.
		raw, err := s.sessionRows.Take(depositFlashKey(c.Cookies(SessionCookie)))
		if err != nil {
			return err
		}
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil && n > 0 {
			v := s.view(c, printer(c).T("wallet.title"))
			v.Flash = &views.Flash{Kind: "ok", Text: v.T("wallet.deposited", v.Money(n))}
			return page(c, fiber.StatusOK, pages.Wallet(v, m), pages.WalletBody(v, m))
		}
	}
	return s.renderWallet(c, fiber.StatusOK, m)
}

// depositFlashTTL bounds how long a deposit's flash waits for its page.
const depositFlashTTL = 5 * time.Minute

// depositFlashKey is the storage key of session id's deposit flash. It is
// kept beside the session, like a started sign-in, so a page view that
// rewrites the session cannot lose it.
func depositFlashKey(id string) string { return "flash:deposit:" + id }

func (s *Server) walletView(c *fiber.Ctx) (pages.WalletView, error) {
	u := currentUser(c)
	p := printer(c)
	sum, err := wallet.Summarize(c.UserContext(), s.DB, u.ID)
	if err != nil {
		return pages.WalletView{}, err
	}
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	if before < 0 {
		before = 0
	}
	rows, next, err := wallet.History(c.UserContext(), s.DB, u.ID, before)
	if err != nil {
		return pages.WalletView{}, err
	}
	m := pages.WalletView{
		Balance:   sum.Balance,
		Committed: sum.Committed,
		Available: sum.Available(),
		Deposits:  s.Config.Deposits,
		DepositHint: p.T("wallet.deposit.hint",
			p.Money(s.Config.DepositMin), p.Money(s.Config.DepositMax), p.Money(s.Config.DepositDailyCap)),
	}
	// The header shows the same balance as the summary.
	u.Balance = sum.Balance
	for _, r := range rows {
		e := pages.WalletEntry{ID: r.ID, Kind: r.Kind, KindLabel: p.T(walletKinds[r.Kind]), Amount: r.Amount, Title: r.Title, At: r.CreatedAt}
		if r.AuctionID != nil {
			e.AuctionID = *r.AuctionID
		}
		m.Entries = append(m.Entries, e)
	}
	if next != 0 {
		m.OlderURL = "/wallet?before=" + strconv.FormatInt(next, 10)
	}
	if before != 0 {
		m.NewestURL = "/wallet"
	}
	return m, nil
}

func (s *Server) renderWallet(c *fiber.Ctx, status int, m pages.WalletView) error {
	v := s.view(c, printer(c).T("wallet.title"))
	return page(c, status, pages.Wallet(v, m), pages.WalletBody(v, m))
}

// depositCreate adds demo money, within the configured bounds and the
// rolling 24-hour cap.
func (s *Server) depositCreate(c *fiber.Ctx) error {
	if !s.Config.Deposits {
		return refuse(fiber.StatusForbidden, "wallet.deposit.off")
	}
	u := currentUser(c)
	p := printer(c)
	raw := strings.TrimSpace(c.FormValue("amount"))
	amount, perr := strconv.ParseInt(strings.NewReplacer(",", "", "_", "", " ", "", "₩", "").Replace(raw), 10, 64)
	var err error
	if perr != nil {
		err = errBadAmount
	} else {
		err = wallet.Deposit(c.UserContext(), s.DB, u.ID, amount, wallet.Limits{
			Min: s.Config.DepositMin, Max: s.Config.DepositMax, DailyCap: s.Config.DepositDailyCap,
		})
	}
	if err == nil {
		// The balance changed: the page after the redirect must not show
		// this instance's copy (the notice may still be on its way).
		s.Cache.ForgetUser(u.ID)
		if sid := c.Cookies(SessionCookie); sid != "" {
			if err := s.sessionRows.Set(depositFlashKey(sid), []byte(strconv.FormatInt(amount, 10)), depositFlashTTL); err != nil {
				return err
			}
		}
		return c.Redirect("/wallet?deposited=1", fiber.StatusSeeOther)
	}
	var msg string
	var capErr *wallet.CapError
	switch {
	case errors.Is(err, errBadAmount):
		msg = p.T("wallet.deposit.invalid")
	case errors.Is(err, wallet.ErrTooSmall):
		msg = p.T("wallet.deposit.min", p.Money(s.Config.DepositMin))
	case errors.Is(err, wallet.ErrTooLarge):
		msg = p.T("wallet.deposit.max", p.Money(s.Config.DepositMax))
	case errors.As(err, &capErr):
		msg = p.T("wallet.deposit.cap", p.Money(capErr.Remaining))
	default:
		return err
	}
	m, verr := s.walletView(c)
	if verr != nil {
		return verr
	}
	m.Amount, m.AmountError = raw, msg
	return s.renderWallet(c, fiber.StatusUnprocessableEntity, m)
}

var errBadAmount = errors.New("amount is not a whole number")
