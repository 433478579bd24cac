package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"gavel/app/web"
)

func ledgerCount(t *testing.T, a *testApp, userID int64) int {
	t.Helper()
	var n int
	if err := a.DB.NewRaw(`SELECT count(*) FROM ledger WHERE user_id = ?`, userID).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCSRFMissingOrWrongIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	uid := a.loginDev(t, "csrfvictim")
	before := ledgerCount(t, a, uid)

	for name, vals := range map[string]url.Values{
		"missing": {"amount": {"5000"}, "_csrf": nil},
		"wrong":   {"amount": {"5000"}, "_csrf": {"not-the-token"}},
	} {
		if vals["_csrf"] == nil {
			// postForm adds the token unless _csrf is present: post by hand.
			req, _ := http.NewRequest("POST", a.URL+"/wallet/deposits", strings.NewReader("amount=5000"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept-Language", "en")
			resp, doc := a.do(t, req)
			checkCSRFPage(t, name, resp, doc.Find(`[data-testid="error-page"] h1`).Text())
			continue
		}
		resp, doc := a.postForm(t, "/wallet/deposits", vals, "Accept-Language", "en")
		checkCSRFPage(t, name, resp, doc.Find(`[data-testid="error-page"] h1`).Text())
	}
	// A token of another session is no better.
	other := a.as(t, "attacker")
	resp, _ := a.postForm(t, "/wallet/deposits", url.Values{"amount": {"5000"}, "_csrf": {other.csrf(t)}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("another session's token: %d", resp.StatusCode)
	}
	if n := ledgerCount(t, a, uid); n != before {
		t.Errorf("refused deposits wrote %d ledger rows", n-before)
	}

	// The header form (htmx) and the hidden field both work.
	req, _ := http.NewRequest("POST", a.URL+"/wallet/deposits", strings.NewReader("amount=5000"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", a.csrf(t))
	if resp, _ := a.do(t, req); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("deposit with the token in X-CSRF-Token: %d", resp.StatusCode)
	}
	if resp, _ := a.postForm(t, "/wallet/deposits", url.Values{"amount": {"5000"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("deposit with the token in _csrf: %d", resp.StatusCode)
	}
	if n := ledgerCount(t, a, uid); n != before+2 {
		t.Errorf("%d ledger rows added, want 2", n-before)
	}

	// Signed out, unsafe requests need the token too (the language switch).
	anon := a.newClient()
	resp, err := anon.Client.PostForm(a.URL+"/lang", url.Values{"lang": {"en"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("language switch without a token: %d", resp.StatusCode)
	}
}

func checkCSRFPage(t *testing.T, name string, resp *http.Response, msg string) {
	t.Helper()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("%s token: status %d, want 403", name, resp.StatusCode)
	}
	if !strings.Contains(msg, "security token was missing or out of date") {
		t.Errorf("%s token: page says %q", name, msg)
	}
}

func TestConcurrentDepositsKeepLedgerAndBalancesEqualAndHoldTheCap(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{
		"STARTING_BALANCE": "100000", "DEPOSIT_MIN": "1000", "DEPOSIT_MAX": "10000", "DEPOSIT_DAILY_CAP": "50000",
	}, noLimits)
	users := []*testApp{a.as(t, "payer1"), a.as(t, "payer2"), a.as(t, "payer3")}
	tokens := make([]string, len(users))
	for i, u := range users {
		tokens[i] = u.csrf(t)
	}

	const perUser = 20
	var wg sync.WaitGroup
	statuses := make([][]int, len(users))
	for i := range users {
		statuses[i] = make([]int, perUser)
		for j := 0; j < perUser; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := url.Values{"amount": {"10000"}, "_csrf": {tokens[i]}}
				req, _ := http.NewRequest("POST", a.URL+"/wallet/deposits", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := users[i].Client.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				statuses[i][j] = resp.StatusCode
			}()
		}
	}
	wg.Wait()

	for i := range users {
		ok, capped := 0, 0
		for _, s := range statuses[i] {
			switch s {
			case http.StatusSeeOther:
				ok++
			case http.StatusUnprocessableEntity:
				capped++
			default:
				t.Errorf("user %d: unexpected status %d", i, s)
			}
		}
		if ok != 5 || capped != perUser-5 {
			t.Errorf("user %d: %d accepted, %d refused; want 5 and %d (cap 50,000 of 10,000 each)", i, ok, capped, perUser-5)
		}
	}
	type row struct {
		ID       int64
		Balance  int64
		Sum      int64
		Deposits int64
	}
	var rows []row
	err := a.DB.NewRaw(`SELECT u.id, u.balance, coalesce(sum(l.amount), 0) AS sum,
			coalesce(sum(l.amount) FILTER (WHERE l.kind = 'deposit'), 0) AS deposits
		FROM users u LEFT JOIN ledger l ON l.user_id = u.id GROUP BY u.id ORDER BY u.id`).Scan(context.Background(), &rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d users", len(rows))
	}
	for _, r := range rows {
		if r.Balance != r.Sum {
			t.Errorf("user %d: balance %d but ledger sums to %d", r.ID, r.Balance, r.Sum)
		}
		if r.Deposits != 50000 || r.Balance != 150000 {
			t.Errorf("user %d: deposits %d (cap 50000), balance %d", r.ID, r.Deposits, r.Balance)
		}
	}
}

func TestDepositValidationAndSwitch(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"DEPOSIT_MIN": "1000", "DEPOSIT_MAX": "10000", "DEPOSIT_DAILY_CAP": "15000"}, noLimits)
	a.loginDev(t, "depositor")
	for amount, want := range map[string]string{
		"abc":   "Please enter the amount as a whole number.",
		"999":   "Please add at least ₩1,000 at a time.",
		"10001": "You can add at most ₩10,000 at a time.",
	} {
		resp, doc := a.postForm(t, "/wallet/deposits", url.Values{"amount": {amount}}, "Accept-Language", "en")
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("amount %q: %d", amount, resp.StatusCode)
		}
		if got := doc.Find(`[data-testid="error-amount"]`).Text(); got != want {
			t.Errorf("amount %q: error %q, want %q", amount, got, want)
		}
		if v, _ := doc.Find(`input[name="amount"]`).Attr("value"); v != amount {
			t.Errorf("amount %q not kept in the form: %q", amount, v)
		}
	}
	resp, _ := a.postForm(t, "/wallet/deposits", url.Values{"amount": {"10,000"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deposit 10,000: %d", resp.StatusCode)
	}
	_, doc := a.get(t, resp.Header.Get("Location"), "Accept-Language", "en")
	if got := doc.Find(`[data-testid="flash"]`).Text(); got != "₩10,000 was added to your wallet." {
		t.Errorf("flash: %q", got)
	}
	resp, doc = a.postForm(t, "/wallet/deposits", url.Values{"amount": {"6000"}})
	if resp.StatusCode != http.StatusUnprocessableEntity ||
		doc.Find(`[data-testid="error-amount"]`).Text() != "24시간 충전 한도를 넘습니다. 지금은 ₩5,000까지 충전할 수 있습니다." {
		t.Errorf("over the daily cap: %d %q", resp.StatusCode, doc.Find(`[data-testid="error-amount"]`).Text())
	}

	off := start(t, map[string]string{"DEPOSITS": "false"})
	uid := off.loginDev(t, "nodeposits")
	_, doc = off.get(t, "/wallet")
	if doc.Find(`[data-testid="deposit-form"]`).Length() != 0 {
		t.Error("deposit form shown with DEPOSITS=false")
	}
	if resp, _ := off.postForm(t, "/wallet/deposits", url.Values{"amount": {"5000"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("deposit with DEPOSITS=false: %d", resp.StatusCode)
	}
	if n := ledgerCount(t, off, uid); n != 1 {
		t.Errorf("%d ledger rows, want only the signup", n)
	}
}

func TestDepositsAreRateLimitedPerUser(t *testing.T) {
	t.Parallel()
	a := start(t, nil, withLimits(web.Limits{DepositUser: 2, DepositIP: 100}))
	a.loginDev(t, "hasty")
	for i := 0; i < 2; i++ {
		if resp, _ := a.postForm(t, "/wallet/deposits", url.Values{"amount": {"1000"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("deposit %d: %d", i, resp.StatusCode)
		}
	}
	resp, doc := a.postForm(t, "/wallet/deposits", url.Values{"amount": {"1000"}}, "Accept-Language", "en")
	if resp.StatusCode != http.StatusTooManyRequests ||
		!strings.Contains(doc.Find(`[data-testid="error-page"] h1`).Text(), "Too many deposits") {
		t.Errorf("third deposit: %d %q", resp.StatusCode, doc.Find(`[data-testid="error-page"] h1`).Text())
	}
	// Another user on the same IP is not held back by this one's limit.
	if resp, _ := a.as(t, "patient").postForm(t, "/wallet/deposits", url.Values{"amount": {"1000"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another user's deposit: %d", resp.StatusCode)
	}
}

func TestWalletShowsBalanceCommittedAvailableAndPagedHistory(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"STARTING_BALANCE": "1000000", "DEPOSIT_MIN": "1000"}, noLimits)
	bidder := a.loginDev(t, "bidder")
	seller := a.newClient().loginDev(t, "seller")
	ctx := context.Background()
	var imageID int64
	if err := a.DB.NewRaw(`INSERT INTO images (owner_id, large, large_type, thumb, thumb_type, width, height)
		VALUES (?, '\x00', 'image/png', '\x00', 'image/png', 1, 1) RETURNING id`, seller).Scan(ctx, &imageID); err != nil {
		t.Fatal(err)
	}
	for _, price := range []int64{300000, 50000} {
		if _, err := a.DB.NewRaw(`INSERT INTO auctions (seller_id, title, image_id, start_price, current_price, leader_id, leader_max, bid_count, ends_at)
			VALUES (?, 'lamp', ?, 1000, ?, ?, ?, 1, now() + interval '1 hour')`, seller, imageID, price, bidder, price).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Closed auctions commit nothing.
	if _, err := a.DB.NewRaw(`INSERT INTO auctions (seller_id, title, image_id, start_price, current_price, ends_at, status, settled_at)
		VALUES (?, 'old', ?, 1000, 1000, now() + interval '1 hour', 'unsold', now())`, seller, imageID).Exec(ctx); err != nil {
		t.Fatal(err)
	}

	_, doc := a.get(t, "/wallet")
	for id, want := range map[string]string{
		"wallet-balance": "₩1,000,000", "wallet-committed": "₩350,000", "wallet-available": "₩650,000",
	} {
		if got := doc.Find(`[data-testid="` + id + `"]`).Text(); got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	if doc.Find(`[data-testid="ledger-row"]`).Length() != 1 || doc.Find(`[data-testid="pager-older"]`).Length() != 0 {
		t.Errorf("one signup row and no pager expected")
	}

	// 24 deposits + signup = 25 rows: pages of 20 and 5, newest first.
	for i := 1; i <= 24; i++ {
		if resp, _ := a.postForm(t, "/wallet/deposits", url.Values{"amount": {fmt.Sprint(1000 + i)}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("deposit %d: %d", i, resp.StatusCode)
		}
	}
	_, doc = a.get(t, "/wallet")
	rows := doc.Find(`[data-testid="ledger-row"]`)
	if rows.Length() != 20 || rows.First().Find(`[data-testid="ledger-amount"]`).Text() != "+₩1,024" {
		t.Fatalf("first page: %d rows, first %q", rows.Length(), rows.First().Find(`[data-testid="ledger-amount"]`).Text())
	}
	older, ok := doc.Find(`[data-testid="pager-older"]`).Attr("href")
	if !ok {
		t.Fatal("no link to older rows")
	}
	_, doc = a.get(t, older)
	rows = doc.Find(`[data-testid="ledger-row"]`)
	if rows.Length() != 5 || rows.Last().AttrOr("data-kind", "") != "signup" || doc.Find(`[data-testid="pager-older"]`).Length() != 0 {
		t.Errorf("second page: %d rows, last %q", rows.Length(), rows.Last().AttrOr("data-kind", ""))
	}
	if doc.Find(`[data-testid="pager-newest"]`).Length() != 1 {
		t.Error("no way back to the newest rows")
	}
}
