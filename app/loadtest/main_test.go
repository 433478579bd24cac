package main

import (
	"strings"
	"testing"
	"time"

	"gavel/app/db/dbtest"
	"gavel/app/server/servertest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// The tool drives a real instance through both kinds of bidding war, with
// watchers on its socket and its event stream, and finds every accepted
// bid in the table; told of a bid the table lacks, or
// of one at another amount, its check fails.
func TestHotItemWarsAreCheckedAgainstTheTable(t *testing.T) {
	url := dbtest.URL(t)
	inst := servertest.Start(t, url, map[string]string{
		"TRUSTED_PROXIES": "127.0.0.1", "STARTING_BALANCE": "100000000000",
		"RATE_BID": "100000", "RATE_LOGIN": "100000",
	})
	o := options{base: inst.URL, duration: time.Second, conns: 2, bidders: 4, accounts: 1,
		watchers: 2, streams: 2, dbURL: url, scenarios: "hot"}
	for _, spread := range []int{0, 5} {
		o.spread = spread
		rs, err := run(o)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.accepted == 0 || r.errs != 0 || r.non2xx != 0 || !strings.HasPrefix(r.check, "OK") {
				t.Errorf("spread %d: %d accepted, %d errors, %d other statuses, check %q", spread, r.accepted, r.errs, r.non2xx, r.check)
			}
			if r.frames == 0 {
				t.Errorf("spread %d: the watchers saw no row", spread)
			}
			if st := r.streams; st == nil || st.events < st.n || st.dropped != 0 {
				t.Errorf("spread %d: event streams %+v, want a countdown tick on each and none dropped", spread, st)
			}
		}
	}

	// The last war's auction: the highest id.
	var id int64
	var nick string
	var amount int64
	if err := inst.DB.QueryRow(`SELECT b.auction_id, u.provider_user_id, b.amount FROM bids b JOIN users u ON u.id = b.bidder_id
		WHERE NOT b.auto ORDER BY b.id DESC LIMIT 1`).Scan(&id, &nick, &amount); err != nil {
		t.Fatal(err)
	}
	var all []answer
	rows, err := inst.DB.DB.Query(`SELECT u.provider_user_id, b.amount FROM bids b JOIN users u ON u.id = b.bidder_id
		WHERE b.auction_id = $1 AND NOT b.auto`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a answer
		if err := rows.Scan(&a.nick, &a.amount); err != nil {
			t.Fatal(err)
		}
		all = append(all, a)
	}
	rows.Close()
	if got := checkDB(url, id, all, false); !strings.HasPrefix(got, "OK") {
		t.Fatalf("the table's own rows as answers: %s", got)
	}
	if got := checkDB(url, id, append(all, answer{nick, amount + 1}), false); !strings.HasPrefix(got, "FAILED") {
		t.Errorf("an answer without its row passed: %s", got)
	}
	if got := checkDB(url, id, all[1:], false); !strings.HasPrefix(got, "FAILED") {
		t.Errorf("a row without its answer passed: %s", got)
	}
	moved := append([]answer{{all[0].nick, all[0].amount + 1}}, all[1:]...)
	if got := checkDB(url, id, moved, true); !strings.HasPrefix(got, "FAILED") {
		t.Errorf("an answer at another amount passed the exact check: %s", got)
	}
}
