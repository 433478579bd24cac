package pages

import (
	"strconv"
	"time"

	"gavel/views"
)

// Addendum is text the seller added to a description after the first
// bid, with when.
type Addendum struct {
	Body string
	At   time.Time
}

// RelistForm is the seller's form to relist an unsold or cancelled
// auction: a new duration and, optionally, a lower start price.
type RelistForm struct {
	Durations  []Option
	Duration   string
	StartPrice string // as entered; empty keeps the old start price
	Errors     map[string]string
}

// photoURL is the address of one of the room's photos (or its
// thumbnail); the designers' gallery shows its sample image instead.
func (r Room) photoURL(id int64, thumb bool) string {
	if r.SampleImage != "" {
		return r.SampleImage
	}
	return views.ImageURL(id, thumb)
}

// photos is the room's photos, the cover first (at least the cover).
func (r Room) photos() []int64 {
	if len(r.Photos) == 0 {
		return []int64{r.ImageID}
	}
	return r.Photos
}

// EditMode is what the seller may still change of a listing.
type EditMode int

// Edit modes.
const (
	EditFull     EditMode = iota // no bid yet: title, description, photos
	EditAddendum                 // bids: only an addendum to the description
	EditClosed                   // ended: nothing
)

// EditForm is the seller's edit page.
type EditForm struct {
	ID          int64
	SampleImage string // the designers' gallery: shown for every photo
	Mode        EditMode
	Title       string
	Description string
	// Reserve and BuyNow as entered (empty: none); before the first bid
	// the seller may still change them.
	Reserve, BuyNow string
	Photos          []int64 // the cover first
	MaxPhotos       int
	Addenda         []Addendum
	Addendum        string // the addendum as entered
	Errors          map[string]string
}

func photoMoveURL(a, img int64) string {
	return views.AuctionURL(a) + "/photos/" + strconv.FormatInt(img, 10) + "/move"
}

func photoRemoveURL(a, img int64) string {
	return views.AuctionURL(a) + "/photos/" + strconv.FormatInt(img, 10) + "/remove"
}

func sellingURL(filter string) string {
	if filter == "" {
		return "/me/selling"
	}
	return "/me/selling?status=" + filter
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (e EditForm) photoURL(id int64) string {
	if e.SampleImage != "" {
		return e.SampleImage
	}
	return views.ImageURL(id, true)
}
