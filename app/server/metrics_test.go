package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"gavel/app/auction"
	"gavel/app/db/dbtest"
	"gavel/app/fixture"
	"gavel/app/server/servertest"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return string(b)
}

// The metrics endpoint shows every family operators rely on, filled by real
// traffic (and by a real settlement); pprof answers on its own address.
func TestMetricsEndpointShowsEachFamilyAndPprofAnswers(t *testing.T) {
	url := dbtest.URL(t)
	inst := servertest.Start(t, url, map[string]string{"METRICS_ADDR": "127.0.0.1:0", "DEBUG_ADDR": ":0"})
	ctx := context.Background()
	if inst.Server.MetricsAddr() == "" || !strings.HasPrefix(inst.Server.DebugAddr(), "127.0.0.1:") {
		t.Fatalf("metrics at %q, debug at %q (want loopback)", inst.Server.MetricsAddr(), inst.Server.DebugAddr())
	}
	var seller int64
	if err := inst.DB.QueryRowContext(ctx, `INSERT INTO users (provider, provider_user_id, nick) VALUES ('dev', 's', 'seller') RETURNING id`).Scan(&seller); err != nil {
		t.Fatal(err)
	}
	var imageID, auctionID int64
	if err := inst.DB.QueryRowContext(ctx, `INSERT INTO images (owner_id, large, large_type, thumb, thumb_type, width, height)
		VALUES (?, '\xff', 'image/jpeg', '\xff', 'image/jpeg', 1, 1) RETURNING id`, seller).Scan(&imageID); err != nil {
		t.Fatal(err)
	}
	if err := inst.DB.QueryRowContext(ctx, `INSERT INTO auctions (seller_id, title, image_id, start_price, current_price, ends_at)
		VALUES (?, 'item', ?, 1000, 1000, now() + interval '1 second') RETURNING id`, seller, imageID).Scan(&auctionID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/", "/login", "/no-such-page"} {
		if resp, err := http.Get(inst.URL + p); err == nil {
			resp.Body.Close()
		}
	}
	// POSTs and GETs on one connection: a label must not keep the
	// request's bytes, which the next request on it overwrites.
	var reqs []string
	for range 3 {
		reqs = append(reqs, "POST /no-such-page", "GET /no-such-page")
	}
	servertest.OneConnection(t, inst.URL, reqs...)
	// An open stream, counted while it lasts.
	sse, err := http.Get(inst.URL + "/events?auctions=" + strconv.FormatInt(auctionID, 10))
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()
	// The engine reports its batches and refusals: one accepted bid, then
	// one too low (refused from the state its writer saw, without a batch).
	lot := fixture.Auction(t, inst.DB, seller, "lot", 1000, time.Hour)
	for i, amount := range []int64{5000, 1000} {
		who := fixture.User(t, inst.DB, "bidder"+strconv.Itoa(i), 100_000)
		_, err := inst.Server.Bidder().PlaceBid(ctx, auction.BidInput{AuctionID: lot, BidderID: who, Amount: amount})
		if want := []error{nil, auction.ErrTooLow}[i]; !errors.Is(err, want) {
			t.Fatalf("bid %d: %v, want %v", i, err, want)
		}
	}

	metricsURL := "http://" + inst.Server.MetricsAddr() + "/metrics"
	deadline := time.Now().Add(10 * time.Second)
	var body string
	for {
		body = scrape(t, metricsURL)
		if strings.Contains(body, "gavel_settlement_lag_seconds_count 1") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{
		`gavel_http_request_duration_seconds_count{code="200",method="GET",route="/"} 2`,
		`gavel_http_request_duration_seconds_count{code="404",method="GET",route="other"} 4`,
		`gavel_http_request_duration_seconds_count{code="403",method="POST",route="/"} 3`,
		`gavel_live_connections{kind="sse"} 1`,
		`gavel_live_connections{kind="ws"} 0`,
		`gavel_live_dropped_total{kind="ws"} 0`,
		`gavel_bid_batch_size_count 1`,
		`gavel_bid_batch_duration_seconds_count 1`,
		`gavel_bid_batch_round_trip_seconds_count{step="lock"} 1`,
		`gavel_bid_batch_round_trip_seconds_count{step="write"} 1`,
		`gavel_bid_refusals_total{reason="too_low"} 1`,
		`gavel_bid_refusals_total{reason="insufficient_funds"} 0`,
		`gavel_settlement_lag_seconds_count 1`,
		`go_sql_open_connections{db_name="gavel"}`,
		`go_sql_wait_count_total{db_name="gavel"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s in\n%s", want, body)
		}
	}
	if strings.Contains(body, `route="/events"`) {
		t.Error("a stream is counted as a request")
	}
	if !strings.Contains(scrape(t, "http://"+inst.Server.DebugAddr()+"/debug/pprof/"), "goroutine") {
		t.Error("pprof index lacks the goroutine profile")
	}
}

// Without METRICS_ADDR and DEBUG_ADDR nothing more listens.
func TestMetricsAndPprofAreOffUnlessConfigured(t *testing.T) {
	inst := servertest.Start(t, dbtest.URL(t), nil)
	if inst.Server.MetricsAddr() != "" || inst.Server.DebugAddr() != "" || inst.Server.Metrics() != nil {
		t.Errorf("metrics %q, debug %q without configuration", inst.Server.MetricsAddr(), inst.Server.DebugAddr())
	}
}
