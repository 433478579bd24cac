package auction_test

import (
	"errors"
	"testing"

	"gavel/app/auction"
	"gavel/app/wallet"
)

func TestGetReturnsTheAuctionWithItsPeople(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 100_000)
	id := f.auction(seller, 1_000)
	if _, err := b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: alice, Amount: 1_500}); err != nil {
		t.Fatal(err)
	}
	a, err := auction.Get(f.ctx, f.db, id)
	if err != nil {
		t.Fatal(err)
	}
	// A first maximum of 1,500 leads at the start price.
	if a.Seller != "seller" || a.Leader != "alice" || a.LeaderID != alice || a.CurrentPrice != 1_000 ||
		a.BidCount != 1 || a.MinNext() != 1_500 || a.ImageID == 0 || a.Winner != "" {
		t.Errorf("Get: %+v", a)
	}
	if _, err := auction.Get(f.ctx, f.db, id+1000); !errors.Is(err, auction.ErrNotFound) {
		t.Errorf("missing auction: %v", err)
	}
}

func TestRecentBidsPagesNewestFirstWithNicks(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	amounts := make([]int64, 120)
	for i := range amounts {
		amounts[i] = int64(1_000 + i*1_000)
	}
	id := f.endedAuction(seller, 1_000, []int64{alice, bob}, amounts...)

	page1, err := auction.RecentBids(f.ctx, f.db, id, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(page1) != auction.MaxBidsPage || page1[0].Amount != 120_000 || page1[0].Bidder != "bob" || page1[1].Bidder != "alice" {
		t.Fatalf("first page: %d bids, first %+v", len(page1), page1[0])
	}
	seen := len(page1)
	before := page1[len(page1)-1].ID
	for {
		page, err := auction.RecentBids(f.ctx, f.db, id, before, 30)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if page[0].ID >= before {
			t.Fatalf("page starts at %d, not before %d", page[0].ID, before)
		}
		seen += len(page)
		before = page[len(page)-1].ID
	}
	if seen != 120 {
		t.Errorf("paged through %d bids, want 120", seen)
	}
}

func TestListsFilterOrderAndPage(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	alice := f.user("alice", 1_000_000)
	bob := f.user("bob", 1_000_000)
	for range 30 {
		f.auction(seller, 1_000)
	}
	f.exec(`UPDATE auctions SET title = '100% cotton shirt' WHERE id = (SELECT min(id) FROM auctions)`)
	f.exec(`UPDATE auctions SET title = '1000 cotton shirts' WHERE id = (SELECT min(id) + 1 FROM auctions)`)
	f.exec(`UPDATE auctions SET title = 'snake_case' WHERE id = (SELECT min(id) + 2 FROM auctions)`)
	// Ending soonest first: make the last one end first.
	last := f.int64(`SELECT max(id) FROM auctions`)
	f.exec(`UPDATE auctions SET ends_at = now() + interval '1 minute' WHERE id = ?`, last)

	p1, err := auction.ListOpen(f.ctx, f.db, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := auction.ListOpen(f.ctx, f.db, "", 2)
	if len(p1.Items) != auction.PageSize || !p1.HasMore || len(p2.Items) != 6 || p2.HasMore || p1.Items[0].ID != last {
		t.Errorf("pages: %d more=%v, %d more=%v, first %d", len(p1.Items), p1.HasMore, len(p2.Items), p2.HasMore, p1.Items[0].ID)
	}
	for search, want := range map[string]int{"100%": 1, "COTTON": 2, "snake_": 1, "e_c": 1, `\`: 0, "shirt": 2, "  ": auction.PageSize} {
		p, err := auction.ListOpen(f.ctx, f.db, search, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != want {
			t.Errorf("search %q found %d, want %d", search, len(p.Items), want)
		}
	}

	newest, _ := auction.ListNew(f.ctx, f.db, 1)
	if newest.Items[0].ID != last {
		t.Errorf("ListNew starts with %d, want %d", newest.Items[0].ID, last)
	}

	// My pages: alice wins one, is outbid on another, leads a third.
	won := f.endedAuction(seller, 1_000, []int64{bob, alice}, 1_000, 2_000)
	lost := f.endedAuction(seller, 1_000, []int64{alice, bob}, 1_000, 2_000)
	unsold := f.endedAuction(seller, 1_000, nil)
	if _, err := auction.NewSweeper(f.db, nil).SettleDue(f.ctx); err != nil {
		t.Fatal(err)
	}
	leading, outbid := p1.Items[1].ID, p1.Items[2].ID
	for _, in := range []auction.BidInput{
		{AuctionID: leading, BidderID: alice, Amount: 5_000},
		{AuctionID: outbid, BidderID: alice, Amount: 5_000},
		{AuctionID: outbid, BidderID: bob, Amount: 9_000},
	} {
		if _, err := b.PlaceBid(f.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	ended, _ := auction.ListEnded(f.ctx, f.db, 1)
	if len(ended.Items) != 3 {
		t.Errorf("ListEnded: %d items, want 3", len(ended.Items))
	}
	myWon, err := auction.MyWon(f.ctx, f.db, alice)
	if err != nil || len(myWon) != 1 || myWon[0].ID != won || myWon[0].FinalPrice != 2_000 || myWon[0].SettledAt.IsZero() {
		t.Errorf("MyWon: %+v, %v", myWon, err)
	}
	selling, err := auction.MySelling(f.ctx, f.db, seller)
	if err != nil || len(selling) != 33 || selling[0].ID != unsold || selling[0].Status != auction.StatusUnsold {
		t.Errorf("MySelling: %d, %v", len(selling), err)
	}
	mine, err := auction.MyBids(f.ctx, f.db, alice)
	if err != nil {
		t.Fatal(err)
	}
	standing := map[int64]string{}
	for _, m := range mine {
		standing[m.ID] = m.Standing
		// Bob's maximum of 9,000 leads one increment above alice's 5,000.
		if m.ID == outbid && (m.MyMax != 5_000 || m.CurrentPrice != 5_500 || m.Leader != "bob") {
			t.Errorf("outbid entry: %+v", m)
		}
	}
	want := map[int64]string{won: auction.StandingWon, lost: auction.StandingLost, leading: auction.StandingLeading, outbid: auction.StandingOutbid}
	if len(standing) != len(want) {
		t.Errorf("MyBids: %v, want %v", standing, want)
	}
	for id, s := range want {
		if standing[id] != s {
			t.Errorf("auction %d: standing %q, want %q", id, standing[id], s)
		}
	}
	if mine[0].ID != outbid {
		t.Errorf("MyBids should start with the latest bid's auction, got %d", mine[0].ID)
	}
	if sum, err := wallet.Summarize(f.ctx, f.db, alice); err != nil || sum.Committed != 5_000 {
		t.Errorf("committed = %d, %v; want 5000", sum.Committed, err)
	}
	f.checkInvariants()
}
