package auction_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"gavel/app/auction"
)

// An edit and a first bid racing on one auction: the auction's row lock
// orders them, so either the edit lands before the bid (and the bid is on
// the edited listing), or it is refused. An edit never lands after a bid.
func TestAnEditRacingTheFirstBidIsOrderedByTheRowLock(t *testing.T) {
	f := newFixture(t)
	b := newBidder(t, f.db, auction.BidderOptions{})
	seller := f.user("seller", 0)
	bidder := f.user("bidder", 1_000_000)
	edited, refused := 0, 0
	for i := range 12 {
		id := f.auction(seller, 1_000)
		cover := f.int64(`SELECT image_id FROM auctions WHERE id = ?`, id)
		var wg sync.WaitGroup
		var editErr, bidErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			editErr = auction.Edit(f.ctx, f.db, auction.EditInput{AuctionID: id, SellerID: seller,
				Title: fmt.Sprintf("edited %d", i), Photos: []int64{cover}})
		}()
		go func() {
			defer wg.Done()
			_, bidErr = b.PlaceBid(f.ctx, auction.BidInput{AuctionID: id, BidderID: bidder, Amount: 1_000})
		}()
		wg.Wait()
		if bidErr != nil {
			t.Fatalf("bid: %v", bidErr)
		}
		switch {
		case editErr == nil:
			edited++
			if n := f.int64(`SELECT count(*) FROM auctions a WHERE a.id = ? AND a.edited_at <= (SELECT min(created_at) FROM bids WHERE auction_id = a.id)`, id); n != 1 {
				t.Errorf("auction %d: the edit landed after the first bid", id)
			}
		case errors.Is(editErr, auction.ErrCannotEdit):
			refused++
			if n := f.int64(`SELECT count(*) FROM auctions WHERE id = ? AND edited_at IS NULL AND title NOT LIKE 'edited%'`, id); n != 1 {
				t.Errorf("auction %d: a refused edit changed it", id)
			}
		default:
			t.Fatalf("edit: %v", editErr)
		}
	}
	t.Logf("%d edits first, %d refused after the bid", edited, refused)
	f.checkInvariants()
}

func TestRelistCopiesTheListingOnceAndOnlyForItsSeller(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	other := f.user("other", 0)
	id := f.auction(seller, 5_000)
	if err := auction.Cancel(f.ctx, f.db, id, seller); err != nil {
		t.Fatal(err)
	}
	in := auction.RelistInput{AuctionID: id, SellerID: other, Duration: auction.DefaultDuration}
	if _, err := auction.Relist(f.ctx, f.db, in, 0); !errors.Is(err, auction.ErrNotSeller) {
		t.Errorf("relist by another user: %v", err)
	}
	in.SellerID = seller
	// Two at once: exactly one relists.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = auction.Relist(f.ctx, f.db, in, 0) }()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, auction.ErrRelisted):
			t.Errorf("the second relist: %v, want ErrRelisted", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d relists succeeded", ok)
	}
	newID := f.int64(`SELECT id FROM auctions WHERE relisted_from = ?`, id)
	a, err := auction.Get(f.ctx, f.db, id)
	if err != nil || a.RelistedAs != newID {
		t.Fatalf("old auction links to %d (%v), want %d", a.RelistedAs, err, newID)
	}
	n, err := auction.Get(f.ctx, f.db, newID)
	if err != nil {
		t.Fatal(err)
	}
	if n.RelistedFrom != id || n.Title != a.Title || n.StartPrice != 5_000 || n.Status != auction.StatusOpen ||
		fmt.Sprint(n.Photos) != fmt.Sprint(a.Photos) || n.ImageID != a.ImageID {
		t.Errorf("relisted as %+v", n)
	}
	f.checkInvariants()
}

func TestPhotosMoveWithinTheirListingOnlyAndTheCoverFollowsTheFirst(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	id := f.auction(seller, 1_000)
	other := f.auction(seller, 1_000)
	cover := f.int64(`SELECT image_id FROM auctions WHERE id = ?`, id)
	b, c := f.image(seller), f.image(seller)
	if err := auction.Edit(f.ctx, f.db, auction.EditInput{AuctionID: id, SellerID: seller, Title: "x", Add: []int64{b, c}}); err != nil {
		t.Fatal(err)
	}
	photos := func() string {
		p, err := auction.Photos(f.ctx, f.db, id)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(p)
	}
	if got := photos(); got != fmt.Sprint([]int64{cover, b, c}) {
		t.Fatalf("after adding two: %s", got)
	}
	// Past the end is the end.
	if err := auction.MovePhoto(f.ctx, f.db, id, seller, cover, 99); err != nil {
		t.Fatal(err)
	}
	if got := photos(); got != fmt.Sprint([]int64{b, c, cover}) {
		t.Errorf("after moving the cover last: %s", got)
	}
	if got := f.int64(`SELECT image_id FROM auctions WHERE id = ?`, id); got != b {
		t.Errorf("cover %d, want the new first %d", got, b)
	}
	otherCover := f.int64(`SELECT image_id FROM auctions WHERE id = ?`, other)
	for _, err := range []error{
		auction.MovePhoto(f.ctx, f.db, id, seller, otherCover, 0),
		auction.RemovePhoto(f.ctx, f.db, id, seller, otherCover),
	} {
		if !errors.Is(err, auction.ErrNoSuchPhoto) {
			t.Errorf("another listing's photo: %v, want ErrNoSuchPhoto", err)
		}
	}
	// Someone else's upload cannot be added through an edit.
	stranger := f.user("stranger", 0)
	var fe auction.FieldErrors
	if err := auction.Edit(f.ctx, f.db, auction.EditInput{AuctionID: id, SellerID: seller, Title: "x", Add: []int64{f.image(stranger)}}); !errors.As(err, &fe) {
		t.Errorf("adding a stranger's image: %v", err)
	}
	if got := photos(); got != fmt.Sprint([]int64{b, c, cover}) {
		t.Errorf("a refused edit changed the photos: %s", got)
	}
}

func TestARelistKeepsTheReserveAndBuyItNowPrice(t *testing.T) {
	f := newFixture(t)
	seller := f.user("seller", 0)
	id, err := auction.Create(f.ctx, f.db, auction.CreateInput{SellerID: seller, Title: "Vase", StartPrice: 10_000,
		Duration: auction.DefaultDuration, ImageID: f.image(seller), Reserve: 40_000, BuyNow: 60_000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := auction.Cancel(f.ctx, f.db, id, seller); err != nil {
		t.Fatal(err)
	}
	newID, err := auction.Relist(f.ctx, f.db, auction.RelistInput{AuctionID: id, SellerID: seller, Duration: auction.DefaultDuration, StartPrice: 5_000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.int64(`SELECT count(*) FROM auctions WHERE id = ? AND start_price = 5000 AND reserve = 40000 AND buy_now = 60000`, newID); n != 1 {
		t.Error("the relisted auction lost its reserve or Buy It Now price")
	}
	f.checkInvariants()
}
