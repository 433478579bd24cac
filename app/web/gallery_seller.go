package web

import (
	"time"

	"gavel/static"
	"gavel/views"
	"gavel/views/pages"
	"gavel/views/parts"
)

// sellerSpecimens are the seller's side in the designers' gallery: the
// room's photos, addenda and relisting, the edit page in each of its
// modes, the upload progress and the dashboard.
func sellerSpecimens(v views.Ctx, now time.Time) []pages.Specimen {
	p := v.P
	sample := static.URL("img/sample.jpg")
	open := parts.State{ID: 1, Status: parts.StatusOpen, Price: 120_000, MinNext: 125_000, BidCount: 7,
		EndsAt: now.Add(3*time.Hour + 12*time.Minute), Leader: "bidder_lee"}
	unsold := parts.State{ID: 2, Status: parts.StatusUnsold, Price: 50_000, MinNext: 50_000, EndsAt: now.Add(-time.Hour)}
	sold := parts.State{ID: 3, Status: parts.StatusSold, Price: 182_000, BidCount: 12, EndsAt: now.Add(-2 * time.Hour), Leader: "bidder_lee"}
	one := pages.Room{ID: 1, Title: "Leica M3 (1957)", ImageID: 1, SampleImage: sample, State: open, Now: now}
	several := one
	several.Photos = []int64{1, 2, 3, 4}
	added := one
	added.Description = "Shutter serviced in 2023. Light marks on the top plate."
	added.Addenda = []pages.Addendum{{Body: "The original lens cap is included.", At: now.Add(-40 * time.Minute)}}
	relisted := one
	relisted.RelistedAs = 9
	relisted.State = unsold
	relistFrom := one
	relistFrom.RelistedFrom = 8
	relist := one
	relist.ID, relist.StartPrice, relist.State = 2, 50_000, unsold
	relist.Relist = pages.RelistForm{Duration: "24h0m0s", StartPrice: "60000", Durations: []pages.Option{{Value: "24h0m0s", Label: p.Duration(24 * time.Hour)}},
		Errors: map[string]string{"start_price": p.T("auction.relist_price_higher")}}
	edit := pages.EditForm{ID: 1, Mode: pages.EditFull, Title: "Leica M3 (1957)", Description: "Shutter serviced in 2023.",
		Photos: []int64{1, 2, 3}, MaxPhotos: 8, SampleImage: sample, Errors: map[string]string{}}
	editErr := edit
	editErr.Errors = map[string]string{"title": p.T("auction.title_required"), "image": p.T("sell.too_many_photos", p.Number(8), p.Number(5))}
	addendum := pages.EditForm{ID: 1, Mode: pages.EditAddendum, Addenda: added.Addenda, Errors: map[string]string{"addendum": p.T("auction.addendum_empty")}}
	dash := pages.Selling{Now: now, Rows: []pages.Mine{
		{ID: 1, Title: "Leica M3 (1957)", State: open, CanAddend: true, Thumb: sample},
		{ID: 4, Title: "Film scanner", State: parts.State{ID: 4, Status: parts.StatusOpen, Price: 30_000, MinNext: 30_000, EndsAt: now.Add(26 * time.Hour)}, CanEdit: true},
		{ID: 2, Title: "Tripod", State: unsold, CanRelist: true},
		{ID: 3, Title: "Rangefinder strap", State: sold},
	}}
	return []pages.Specimen{
		{Name: "Room photos: the cover alone", C: pages.PhotoGallery(v, one, parts.InPage)},
		{Name: "Room photos: several, with thumbnails (no JavaScript: links and :target)", C: pages.PhotoGallery(v, several, parts.InPage)},
		{Name: "Room description with a seller's addendum", C: pages.About(v, added, parts.InPage)},
		{Name: "Room: relisted as a new auction", C: pages.Relisting(v, relisted)},
		{Name: "Room: relisted from an earlier auction", C: pages.Relisting(v, relistFrom)},
		{Name: "Relist form: refused price", C: pages.RelistPanel(v, relist)},
		{Name: "Upload progress (shown while htmx uploads)", C: pages.UploadProgress(v)},
		{Name: "Edit form", C: pages.EditFormBody(v, edit)},
		{Name: "Edit form: errors", C: pages.EditFormBody(v, editErr)},
		{Name: "Edit: photo order", C: pages.EditPhotos(v, edit)},
		{Name: "Edit after the first bid: addendum form, refused", C: pages.AddendumForm(v, addendum)},
		{Name: "Dashboard price and bids (live)", C: parts.Summary(p, open)},
		{Name: "Dashboard (filter tabs, rows, next steps)", C: pages.SellingBody(v, dash)},
	}
}
