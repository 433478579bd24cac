package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// Every rate limit is the operator's to set from the environment: with a
// limit of 2, the third request in the window is refused with 429.
func TestEveryRateLimitVariableIsHonoured(t *testing.T) {
	t.Parallel()
	limited := func(t *testing.T, name string, codes []int) {
		t.Helper()
		if len(codes) != 3 || codes[0] == http.StatusTooManyRequests || codes[1] == http.StatusTooManyRequests || codes[2] != http.StatusTooManyRequests {
			t.Errorf("%s=2: answers %v, want the third alone refused with 429", name, codes)
		}
	}
	t.Run("RATE_BID", func(t *testing.T) {
		t.Parallel()
		a := start(t, map[string]string{"RATE_BID": "2"})
		id := a.as(t, "seller").sell(t, "Pen", 1_000, "1h0m0s")
		b := a.as(t, "bidder")
		var codes []int
		for _, amount := range []int64{1_000, 2_000, 3_000} {
			code, _ := b.bid(t, id, amount, "")
			codes = append(codes, code)
		}
		limited(t, "RATE_BID", codes)
	})
	t.Run("RATE_LOGIN", func(t *testing.T) {
		t.Parallel()
		a := start(t, map[string]string{"RATE_LOGIN": "2"})
		var codes []int
		for i := range 3 {
			c := a.newClient()
			resp, _ := c.get(t, "/auth/dev")
			loc := resp.Header.Get("Location")
			u, _ := url.Parse(loc)
			resp, _ = c.postForm(t, "/auth/dev/form", url.Values{"state": {u.Query().Get("state")}, "nick": {fmt.Sprintf("user%d", i)}})
			codes = append(codes, resp.StatusCode)
		}
		limited(t, "RATE_LOGIN", codes)
	})
	for _, tc := range []struct{ name, other string }{{"RATE_DEPOSIT_USER", "RATE_DEPOSIT_IP"}, {"RATE_DEPOSIT_IP", "RATE_DEPOSIT_USER"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := start(t, map[string]string{tc.name: "2", tc.other: "100"})
			users := []*testApp{a.as(t, "payer1"), a.as(t, "payer1")}
			if tc.name == "RATE_DEPOSIT_IP" {
				users = []*testApp{a.as(t, "payer1"), a.as(t, "payer2")} // one address, two users
			}
			var codes []int
			for i := range 3 {
				resp, _ := users[i%2].postForm(t, "/wallet/deposits", url.Values{"amount": {"1000"}})
				codes = append(codes, resp.StatusCode)
			}
			limited(t, tc.name, codes)
		})
	}
	t.Run("STREAMS_PER_IP", func(t *testing.T) {
		t.Parallel()
		a := start(t, map[string]string{"STREAMS_PER_IP": "2"})
		id := a.as(t, "seller").sell(t, "Lamp", 1_000, "1h0m0s")
		var codes []int
		for range 3 {
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/events?auctions=%d", a.URL, id), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close() // the open streams count until the test ends
			codes = append(codes, resp.StatusCode)
		}
		limited(t, "STREAMS_PER_IP", codes)
	})
}
