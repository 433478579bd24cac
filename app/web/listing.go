package web

import (
	"context"
	"errors"
	"mime/multipart"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"gavel/app/auction"
	"gavel/app/i18n"
	"gavel/app/media"
	"gavel/views"
	"gavel/views/pages"
)

// photoFiles are the photos of a sell or edit form (its "image" inputs),
// in the order the browser sent them; parts with no file (an input left
// empty) are skipped.
func photoFiles(c *fiber.Ctx) []*multipart.FileHeader {
	form, err := c.MultipartForm()
	if err != nil {
		return nil
	}
	var files []*multipart.FileHeader
	for _, fh := range form.File[auction.FieldImage] {
		if fh.Size == 0 && fh.Filename == "" {
			continue
		}
		files = append(files, fh)
	}
	return files
}

// decodeReserve is the time an upload keeps, after its decodes, to store
// what they made before its deadline.
const decodeReserve = 3 * time.Second

// processPhotos makes each file safe (media.Process), one decode slot at a
// time, within the request's deadline: each decode gets its budget or
// what is left of the deadline, whichever is less. A refused photo comes
// back as the message to show (naming the photo when there are several),
// with nothing kept; a server error as err.
func (s *Server) processPhotos(c *fiber.Ctx, p *i18n.Printer, files []*multipart.FileHeader) ([]*media.Image, string, error) {
	ctx := c.UserContext()
	imgs := make([]*media.Image, 0, len(files))
	for i, fh := range files {
		budget := media.DecodeBudget
		if dl, ok := ctx.Deadline(); ok {
			budget = min(budget, time.Until(dl)-decodeReserve)
		}
		if budget <= 0 {
			return nil, "", refuse(fiber.StatusServiceUnavailable, "sell.busy")
		}
		select {
		case s.photos <- struct{}{}:
		case <-time.After(10 * time.Second):
			return nil, "", refuse(fiber.StatusServiceUnavailable, "sell.busy")
		case <-ctx.Done():
			return nil, "", refuse(fiber.StatusServiceUnavailable, "sell.busy")
		}
		img, err := func() (*media.Image, error) {
			defer func() { <-s.photos }()
			file, err := fh.Open()
			if err != nil {
				return nil, err
			}
			defer file.Close()
			return media.ProcessWithin(file, budget)
		}()
		if err != nil {
			key := media.Key(err)
			if key == "" {
				return nil, "", err
			}
			msg := p.T(key)
			if len(files) > 1 {
				msg = p.T("sell.photo_n", p.Number(int64(i+1)), msg)
			}
			return nil, msg, nil
		}
		imgs = append(imgs, img)
	}
	return imgs, "", nil
}

// savePhotos stores imgs as ownerID's and returns their ids, in order.
func savePhotos(ctx context.Context, tx bun.IDB, ownerID int64, imgs []*media.Image) ([]int64, error) {
	ids := make([]int64, 0, len(imgs))
	for _, img := range imgs {
		id, err := media.Save(ctx, tx, ownerID, img)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// listingError turns a refusal of a seller's change into its page: 404,
// 403 for somebody else's auction, 409 for one past changing, 422 for bad
// input. It returns nil for any other error.
func listingError(err error) error {
	var ae *auction.Error
	if !errors.As(err, &ae) {
		return nil
	}
	switch {
	case errors.Is(err, auction.ErrNotFound):
		return fiber.ErrNotFound
	case errors.Is(err, auction.ErrNotSeller):
		return refuse(fiber.StatusForbidden, ae.Key())
	case errors.Is(err, auction.ErrNoSuchPhoto), errors.Is(err, auction.ErrAddendumEmpty), errors.Is(err, auction.ErrAddendumTooLong):
		return refuse(fiber.StatusUnprocessableEntity, ae.Key())
	}
	return refuse(fiber.StatusConflict, ae.Key())
}

// forgetListing drops this instance's cached room of auction id and its
// lists after the seller changed the listing here: their notices are on
// their way, but the seller's next page (and anyone's) must show the
// change already.
func (s *Server) forgetListing(id int64) {
	s.rooms.drop(id)
	s.lists.flush()
}

// sellerListing loads auction :id for its seller's page, or refuses: 404,
// 403 for anyone else.
func (s *Server) sellerListing(c *fiber.Ctx) (*auction.Auction, error) {
	id, err := auctionID(c)
	if err != nil {
		return nil, err
	}
	a, err := auction.Get(c.UserContext(), s.DB, id)
	if errors.Is(err, auction.ErrNotFound) {
		return nil, fiber.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if a.SellerID != currentUser(c).ID {
		return nil, refuse(fiber.StatusForbidden, auction.ErrNotSeller.Key())
	}
	return a, nil
}

// editFormOf is the edit page of a as it stands now, for its seller (who
// alone may see the reserve).
func (s *Server) editFormOf(c *fiber.Ctx, a *auction.Auction) (pages.EditForm, error) {
	e := pages.EditForm{ID: a.ID, Title: a.Title, Description: a.Description, Photos: a.Photos,
		MaxPhotos: auction.MaxPhotos, Errors: map[string]string{}}
	if a.HasReserve {
		reserve, err := auction.ReserveOf(c.UserContext(), s.DB, a.ID, a.SellerID)
		if err != nil {
			return e, err
		}
		e.Reserve = strconv.FormatInt(reserve, 10)
	}
	if a.BuyNow > 0 {
		e.BuyNow = strconv.FormatInt(a.BuyNow, 10)
	}
	running := a.Status == auction.StatusOpen && s.Now().Before(a.EndsAt)
	switch {
	case running && a.BidCount == 0:
		e.Mode = pages.EditFull
	case running:
		e.Mode = pages.EditAddendum
	default:
		e.Mode = pages.EditClosed
	}
	for _, d := range a.Addenda {
		e.Addenda = append(e.Addenda, pages.Addendum{Body: d.Body, At: d.CreatedAt})
	}
	return e, nil
}

func (s *Server) renderEdit(c *fiber.Ctx, status int, e pages.EditForm) error {
	v := s.view(c, printer(c).T("edit.title"))
	if e.Mode == pages.EditFull && isFragment(c) {
		return render(c, status, pages.EditFormBody(v, e))
	}
	return render(c, status, pages.EditPage(v, e))
}

// editShow is the seller's edit page: the whole listing before the first
// bid, an addendum after it.
func (s *Server) editShow(c *fiber.Ctx) error {
	a, err := s.sellerListing(c)
	if err != nil {
		return err
	}
	e, err := s.editFormOf(c, a)
	if err != nil {
		return err
	}
	return s.renderEdit(c, fiber.StatusOK, e)
}

// editSubmit changes the title and description and adds the uploaded
// photos after the ones there, before the first bid. Every check comes
// before any photo is decoded, and nothing is stored unless all of it is.
func (s *Server) editSubmit(c *fiber.Ctx) error {
	a, err := s.sellerListing(c)
	if err != nil {
		return err
	}
	p := printer(c)
	e, err := s.editFormOf(c, a)
	if err != nil {
		return err
	}
	if e.Mode != pages.EditFull {
		return refuse(fiber.StatusConflict, auction.ErrCannotEdit.Key())
	}
	e.Title, e.Description = strings.Clone(c.FormValue("title")), strings.Clone(c.FormValue("description"))
	in := auction.EditInput{AuctionID: a.ID, SellerID: a.SellerID, Title: e.Title, Description: e.Description}
	// The reserve and Buy It Now price: as on the sell form, empty is
	// none. A form without the fields (an older page) leaves them.
	form := c.Request().PostArgs()
	if mf, ferr := c.MultipartForm(); ferr == nil {
		_, hasReserve := mf.Value[auction.FieldReserve]
		_, hasBuyNow := mf.Value[auction.FieldBuyNow]
		in.SetPrices = hasReserve || hasBuyNow
	} else {
		in.SetPrices = form.Has(auction.FieldReserve) || form.Has(auction.FieldBuyNow)
	}
	if in.SetPrices {
		e.Reserve = strings.TrimSpace(strings.Clone(c.FormValue(auction.FieldReserve)))
		e.BuyNow = strings.TrimSpace(strings.Clone(c.FormValue(auction.FieldBuyNow)))
		var ok bool
		if in.Reserve, ok = optionalAmount(e.Reserve); !ok {
			e.Errors[auction.FieldReserve] = p.T("sell.reserve_not_a_number")
		}
		if in.BuyNow, ok = optionalAmount(e.BuyNow); !ok {
			e.Errors[auction.FieldBuyNow] = p.T("sell.buy_now_not_a_number")
		}
	}
	files := photoFiles(c)
	for field, key := range in.Validate() {
		e.Errors[field] = p.T(key)
	}
	if len(a.Photos)+len(files) > auction.MaxPhotos {
		// Refused before any decode: the count alone is enough.
		e.Errors[auction.FieldImage] = p.T("sell.too_many_photos", p.Number(auction.MaxPhotos), p.Number(int64(auction.MaxPhotos-len(a.Photos))))
	}
	var imgs []*media.Image
	if len(e.Errors) == 0 && len(files) > 0 {
		var msg string
		if imgs, msg, err = s.processPhotos(c, p, files); err != nil {
			return err
		}
		if msg != "" {
			e.Errors[auction.FieldImage] = msg
		}
	}
	if len(e.Errors) > 0 {
		return s.renderEdit(c, fiber.StatusUnprocessableEntity, e)
	}
	err = s.DB.RunInTx(c.UserContext(), nil, func(ctx context.Context, tx bun.Tx) error {
		ids, err := savePhotos(ctx, tx, a.SellerID, imgs)
		if err != nil {
			return err
		}
		in.Add = ids
		return auction.Edit(ctx, tx, in)
	})
	var fields auction.FieldErrors
	if errors.As(err, &fields) {
		for field, key := range fields {
			e.Errors[field] = p.T(key)
		}
		return s.renderEdit(c, fiber.StatusUnprocessableEntity, e)
	}
	if r := listingError(err); r != nil {
		return r
	}
	if err != nil {
		return err
	}
	s.forgetListing(a.ID)
	return redirect(c, views.AuctionURL(a.ID)+"?edited=1")
}

// optionalAmount parses an optional amount of won: empty is 0 (none).
func optionalAmount(text string) (int64, bool) {
	if text == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(text, ",", ""), 10, 64)
	return n, err == nil
}

// photoID parses the :image parameter.
func photoID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("image"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.ErrNotFound
	}
	return id, nil
}

// photoMove moves one of a listing's photos to position ?to (0 makes it
// the cover), before the first bid.
func (s *Server) photoMove(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	img, err := photoID(c)
	if err != nil {
		return err
	}
	to, err := strconv.Atoi(c.FormValue("to"))
	if err != nil || to < 0 || to >= auction.MaxPhotos {
		return refuse(fiber.StatusUnprocessableEntity, "edit.bad_position")
	}
	err = auction.MovePhoto(c.UserContext(), s.DB, id, currentUser(c).ID, img, to)
	if r := listingError(err); r != nil {
		return r
	}
	if err != nil {
		return err
	}
	s.forgetListing(id)
	return redirect(c, views.EditURL(id))
}

// photoRemove takes one of a listing's photos off it, before the first
// bid; the last one stays.
func (s *Server) photoRemove(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	img, err := photoID(c)
	if err != nil {
		return err
	}
	err = auction.RemovePhoto(c.UserContext(), s.DB, id, currentUser(c).ID, img)
	if r := listingError(err); r != nil {
		return r
	}
	if err != nil {
		return err
	}
	s.forgetListing(id)
	return redirect(c, views.EditURL(id))
}

// addendumCreate adds to the description of the seller's auction with bids.
func (s *Server) addendumCreate(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	body := strings.Clone(c.FormValue("addendum"))
	err = auction.AddAddendum(c.UserContext(), s.DB, id, currentUser(c).ID, body)
	var ae *auction.Error
	if errors.As(err, &ae) && (errors.Is(err, auction.ErrAddendumEmpty) || errors.Is(err, auction.ErrAddendumTooLong)) {
		a, gerr := s.sellerListing(c)
		if gerr != nil {
			return gerr
		}
		e, gerr := s.editFormOf(c, a)
		if gerr != nil {
			return gerr
		}
		e.Addendum = body
		e.Errors["addendum"] = printer(c).T(ae.Key())
		return s.renderEdit(c, fiber.StatusUnprocessableEntity, e)
	}
	if r := listingError(err); r != nil {
		return r
	}
	if err != nil {
		return err
	}
	s.forgetListing(id)
	return redirect(c, views.AuctionURL(id)+"?edited=1")
}

// relistForm is the relist form with the duration and start price given
// (as entered), and the durations to choose from.
func (s *Server) relistForm(c *fiber.Ctx, duration, price string) pages.RelistForm {
	p := printer(c)
	f := pages.RelistForm{Duration: duration, StartPrice: price, Errors: map[string]string{}}
	for _, d := range auction.Durations(s.shortAuction()) {
		f.Durations = append(f.Durations, pages.Option{Value: d.String(), Label: p.Duration(d)})
	}
	return f
}

// relistCreate relists the seller's unsold or cancelled auction in one
// step, and opens the new one.
func (s *Server) relistCreate(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	p := printer(c)
	durationText := strings.Clone(c.FormValue("duration"))
	priceText := strings.TrimSpace(strings.ReplaceAll(strings.Clone(c.FormValue("start_price")), ",", ""))
	in := auction.RelistInput{AuctionID: id, SellerID: currentUser(c).ID}
	in.Duration, _ = time.ParseDuration(durationText)
	fe := auction.FieldErrors{}
	if priceText != "" {
		price, perr := strconv.ParseInt(priceText, 10, 64)
		switch {
		case perr != nil:
			fe[auction.FieldStartPrice] = "sell.price_not_a_number"
		case price < auction.MinAmount || price > auction.MaxAmount:
			fe[auction.FieldStartPrice] = "auction.price_invalid"
		default:
			in.StartPrice = price
		}
	}
	var newID int64
	if len(fe) == 0 {
		newID, err = auction.Relist(c.UserContext(), s.DB, in, s.shortAuction())
		if r := listingError(err); r != nil {
			return r
		}
		if !errors.As(err, &fe) && err != nil {
			return err
		}
	}
	if len(fe) > 0 {
		r, err := s.room(c, id)
		if err != nil {
			return err
		}
		r.Relist = s.relistForm(c, durationText, priceText)
		for field, key := range fe {
			r.Relist.Errors[field] = p.T(key)
		}
		v := s.view(c, r.Title)
		return render(c, fiber.StatusUnprocessableEntity, pages.Auction(v, r))
	}
	s.forgetListing(id)
	s.Sweeper.Wake()
	return redirect(c, views.AuctionURL(newID)+"?created=1")
}

// listingShow is a room's listing as out-of-band fragments (photos,
// title, description and addenda), which a room fetches when the
// WebSocket says the listing changed. It reads the database, not the
// room cache: the notice that empties the cache travels on another
// connection than the socket's, and may arrive after this request.
// Edits are rare; the read is one row.
func (s *Server) listingShow(c *fiber.Ctx) error {
	id, err := auctionID(c)
	if err != nil {
		return err
	}
	r, err := s.room(c, id)
	if err != nil {
		return err
	}
	return render(c, fiber.StatusOK, pages.ListingFragments(s.view(c, r.Title), r))
}

// sellingFilters maps the dashboard's ?status= to the statuses it shows.
var sellingFilters = map[string][]string{
	"":        nil,
	"running": {auction.StatusOpen},
	"sold":    {auction.StatusSold},
	"unsold":  {auction.StatusUnsold, auction.StatusCancelled},
}
