// Package demo fills an empty development database with a few listings and
// runs demo bidders on them, so that a newcomer sees countdowns, live rows,
// automatic bids, extensions and settlements within a minute, alone. It
// goes through the real services only: sign-up, the photo intake, Create,
// the bid writer. Never in production (server refuses it).
package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/auth"
	"gavel/app/media"
)

// provider is the identity provider of the demo's accounts: nobody can sign
// in as them.
const provider = "demo"

// The demo's people. The seller lists; the bidders bid.
var (
	seller  = "중고상점"
	bidders = []string{"민지", "Jordan", "seoyeon", "Hyun-woo", "Alex"}
)

// listing is one demo item: both languages in the title, a colour for its
// picture, and how it runs.
type listing struct {
	title, description string
	start              int64
	lasts              time.Duration
	hardEnd            bool
	hue                float64
	shape              int
	// bids already placed when it is listed (maximums, in order).
	bids []int64
	// reserve and buyNow: the reserve and Buy It Now prices (0: none).
	reserve, buyNow int64
}

var listings = []listing{
	{"라이카 M3 카메라 (1957) · Leica M3 camera", "셔터 정상 작동, 렌즈 곰팡이 없음. Shutter works, clean lens.",
		300_000, 3 * time.Minute, false, 30, 0, []int64{320_000, 350_000}, 0, 0},
	{"빈티지 진공관 라디오 · Vintage valve radio", "1960년대, 수신 양호. 1960s, receives well.",
		80_000, 45 * time.Second, true, 200, 1, nil, 0, 0},
	{"수제 도자기 찻잔 세트 · Handmade tea set", "이천 공방, 4인용. Icheon studio, for four.",
		40_000, 2 * time.Minute, false, 120, 2, nil, 60_000, 0},
	{"기계식 키보드 (갈축) · Mechanical keyboard", "거의 새것. Barely used.",
		60_000, 5 * time.Minute, false, 270, 3, nil, 0, 90_000},
	{"자전거 (로드, 54cm) · Road bike, 54 cm", "정비 완료. Freshly serviced.",
		250_000, 10 * time.Minute, false, 340, 1, []int64{260_000}, 0, 0},
	{"필름 카메라 렌즈 50mm f/1.4 · 50 mm f/1.4 lens", "M42 마운트. M42 mount.",
		90_000, 8 * time.Minute, false, 60, 0, nil, 0, 0},
}

// Demo runs the demo on one database.
type Demo struct {
	db     *bun.DB
	bidder *auction.Bidder
	log    *slog.Logger
	// Every is the mean pause between demo bids (default 3 s).
	Every time.Duration

	sellerID  int64
	bidderIDs []int64
	rng       *rand.Rand
}

// New returns a demo writing through db and bidder.
func New(db *bun.DB, bidder *auction.Bidder, log *slog.Logger) *Demo {
	return &Demo{db: db, bidder: bidder, log: log, Every: 3 * time.Second, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))}
}

// Run seeds the listings (once: a database that has any auction already is
// left as it is, apart from the demo's own later listings) and bids until
// ctx ends. When fewer than three demo listings are open it lists another.
func (d *Demo) Run(ctx context.Context) {
	if err := d.seed(ctx); err != nil {
		if ctx.Err() == nil {
			d.log.Error("demo: seed", "err", err)
		}
		return
	}
	next := 0
	for {
		wait := time.Duration(float64(d.Every) * (0.5 + d.rng.Float64()))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		open, err := d.open(ctx)
		if err != nil {
			continue
		}
		if len(open) < 3 {
			l := listings[next%len(listings)]
			next++
			l.lasts, l.bids = 2*time.Minute+time.Duration(d.rng.IntN(180))*time.Second, nil
			if _, err := d.list(ctx, l); err != nil && ctx.Err() == nil {
				d.log.Error("demo: list", "err", err)
			}
		}
		if len(open) > 0 {
			// Half the time the one ending soonest, as bidders do.
			a := open[d.rng.IntN(len(open))]
			if d.rng.IntN(2) == 0 {
				a = slices.MinFunc(open, func(x, y *auction.Auction) int { return x.EndsAt.Compare(y.EndsAt) })
			}
			d.bid(ctx, a)
		}
	}
}

// seed creates the demo's people and, on a database without auctions, its
// listings.
func (d *Demo) seed(ctx context.Context) error {
	id, err := d.person(ctx, seller, 0)
	if err != nil {
		return err
	}
	d.sellerID = id
	for _, nick := range bidders {
		id, err := d.person(ctx, nick, 50_000_000)
		if err != nil {
			return err
		}
		d.bidderIDs = append(d.bidderIDs, id)
	}
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM auctions`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	for _, l := range listings {
		if _, err := d.list(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

func (d *Demo) person(ctx context.Context, nick string, balance int64) (int64, error) {
	u, _, err := auth.FindOrCreate(ctx, d.db, auth.Identity{Provider: provider, ProviderUserID: nick, Nick: nick}, balance)
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

// list puts l up for sale with its picture and its first bids.
func (d *Demo) list(ctx context.Context, l listing) (int64, error) {
	photo, err := picture(l.hue, l.shape)
	if err != nil {
		return 0, err
	}
	img, err := media.Process(bytes.NewReader(photo))
	if err != nil {
		return 0, err
	}
	var id int64
	err = d.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		imageID, err := media.Save(ctx, tx, d.sellerID, img)
		if err != nil {
			return err
		}
		id, err = auction.Create(ctx, tx, auction.CreateInput{SellerID: d.sellerID, Title: l.title,
			Description: l.description, StartPrice: l.start, Duration: l.lasts, ImageID: imageID, HardEnd: l.hardEnd,
			Reserve: l.reserve, BuyNow: l.buyNow}, l.lasts)
		return err
	})
	if err != nil {
		return 0, err
	}
	for i, m := range l.bids {
		d.bidder.PlaceBid(ctx, auction.BidInput{AuctionID: id, BidderID: d.bidderIDs[i%len(d.bidderIDs)], Amount: m}) //nolint:errcheck // a refused demo bid is no matter
	}
	return id, nil
}

// open lists the open demo auctions before their end.
func (d *Demo) open(ctx context.Context) ([]*auction.Auction, error) {
	var ids []int64
	err := d.db.NewRaw(`SELECT id FROM auctions WHERE seller_id = ? AND status = 'open' AND ends_at > now() ORDER BY id`,
		d.sellerID).Scan(ctx, &ids)
	if err != nil {
		return nil, err
	}
	out := make([]*auction.Auction, 0, len(ids))
	for _, id := range ids {
		a, err := auction.Get(ctx, d.db, id)
		if err == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// bid has a demo bidder who does not lead bid on a: mostly the minimum,
// sometimes a maximum a few increments above it.
func (d *Demo) bid(ctx context.Context, a *auction.Auction) {
	var who int64
	for range 5 {
		if who = d.bidderIDs[d.rng.IntN(len(d.bidderIDs))]; who != a.LeaderID {
			break
		}
	}
	if a.State().BuyNowOffered() && d.rng.IntN(8) == 0 {
		// Now and then someone buys outright.
		_, err := d.bidder.BuyNow(ctx, a.ID, who, a.BuyNow, "")
		var refused *auction.Error
		if err != nil && !errors.As(err, &refused) && ctx.Err() == nil {
			d.log.Warn("demo: buy", "auction", a.ID, "err", err)
		}
		return
	}
	amount := a.MinNext()
	if d.rng.IntN(3) == 0 {
		amount += int64(1+d.rng.IntN(6)) * auction.Increment(amount)
	}
	_, err := d.bidder.PlaceBid(ctx, auction.BidInput{AuctionID: a.ID, BidderID: who, Amount: amount})
	var refused *auction.Error
	if err != nil && !errors.As(err, &refused) && ctx.Err() == nil {
		d.log.Warn("demo: bid", "auction", a.ID, "err", err)
	}
}

// picture draws a listing's photo: a soft gradient in its hue with a
// simple object in front, as a JPEG.
func picture(hue float64, shape int) ([]byte, error) {
	const w, h = 640, 480
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			l := 0.55 + 0.35*float64(y)/h
			img.Set(x, y, hsl(hue, 0.35, l))
		}
	}
	fg := hsl(math.Mod(hue+180, 360), 0.55, 0.35)
	cx, cy := w/2, h/2+20
	for y := range h {
		for x := range w {
			dx, dy := float64(x-cx), float64(y-cy)
			in := false
			switch shape {
			case 0: // a circle: a lens
				in = dx*dx+dy*dy < 120*120
			case 1: // a wide box: a radio
				in = math.Abs(dx) < 190 && math.Abs(dy) < 100
			case 2: // a cup
				in = math.Abs(dx) < 110-dy/4 && dy > -90 && dy < 110
			default: // a flat slab: a keyboard
				in = math.Abs(dx) < 240 && math.Abs(dy) < 60
			}
			if in {
				img.Set(x, y, fg)
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, fmt.Errorf("demo: encode picture: %w", err)
	}
	return buf.Bytes(), nil
}

func hsl(h, s, l float64) color.RGBA {
	c := (1 - math.Abs(2*l-1)) * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := l - c/2
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	return color.RGBA{uint8((r + m) * 255), uint8((g + m) * 255), uint8((b + m) * 255), 255}
}
