package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// sizedPhoto is a real PNG of w×h pixels, so that tests can tell stored
// photos apart by their size.
func sizedPhoto(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 5), 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// postPhotos posts a multipart form with each of photos as an "image"
// file, in order, as a browser sends a multiple file input.
func (a *testApp) postPhotos(t *testing.T, path string, vals url.Values, photos [][]byte, header ...string) (*http.Response, *goquery.Document) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if vals.Get("_csrf") == "" {
		vals.Set("_csrf", a.csrf(t))
	}
	for k, vs := range vals {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	for i, p := range photos {
		fw, _ := w.CreateFormFile("image", fmt.Sprintf("photo%d.png", i+1))
		fw.Write(p)
	}
	w.Close()
	req, _ := http.NewRequest("POST", a.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return a.do(t, req)
}

// listed reads the id of the auction a sell or relist answer redirected
// to: listed(t)(client.postPhotos(…)).
func listed(t *testing.T) func(resp *http.Response, doc *goquery.Document) int64 {
	t.Helper()
	return func(resp *http.Response, doc *goquery.Document) int64 {
		t.Helper()
		return listedID(t, resp, doc)
	}
}

func listedID(t *testing.T, resp *http.Response, doc *goquery.Document) int64 {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/auctions/") {
		t.Fatalf("listing: %d %q %s", resp.StatusCode, loc, strings.TrimSpace(doc.Find(".field__error, [data-testid=error-page]").Text()))
	}
	id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(loc, "/auctions/"), "?created=1"), 10, 64)
	if err != nil {
		t.Fatalf("redirect %q", loc)
	}
	return id
}

// photosOf is an auction's photos as stored: image ids and widths, in order.
func photosOf(t *testing.T, a *testApp, id int64) (ids []int64, widths []int) {
	t.Helper()
	rows, err := a.DB.QueryContext(context.Background(), `SELECT p.image_id, i.width FROM auction_photos p
		JOIN images i ON i.id = p.image_id WHERE p.auction_id = ? ORDER BY p.position`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var img int64
		var w int
		rows.Scan(&img, &w)
		ids, widths = append(ids, img), append(widths, w)
	}
	return ids, widths
}

func cover(t *testing.T, a *testApp, id int64) int64 {
	t.Helper()
	var img int64
	if err := a.DB.QueryRowContext(context.Background(), `SELECT image_id FROM auctions WHERE id = ?`, id).Scan(&img); err != nil {
		t.Fatal(err)
	}
	return img
}

func sellVals(title string) url.Values {
	return url.Values{"title": {title}, "description": {"Seen from every side"}, "start_price": {"10000"}, "duration": {"24h0m0s"}}
}

func TestSellFormTakesEightPhotosInOrderAndRefusesANinthStoringNothing(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"APP_ENV": "development"})
	seller := a.as(t, "seller")
	var eight [][]byte
	for i := range 8 {
		eight = append(eight, sizedPhoto(t, 40+i, 30))
	}
	id := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Camera"), eight))
	ids, widths := photosOf(t, a, id)
	if fmt.Sprint(widths) != "[40 41 42 43 44 45 46 47]" {
		t.Fatalf("stored photo widths %v, want the 8 in upload order", widths)
	}
	if cover(t, a, id) != ids[0] {
		t.Errorf("cover %d, want the first photo %d", cover(t, a, id), ids[0])
	}
	// The room shows all eight, the cover first, with a thumbnail strip
	// whose links work without JavaScript (in-page anchors).
	_, doc := a.newClient().get(t, fmt.Sprintf("/auctions/%d", id))
	slides := doc.Find(`[data-testid="gallery-photo"]`)
	if slides.Length() != 8 {
		t.Fatalf("gallery shows %d photos", slides.Length())
	}
	if src, _ := slides.First().Find("img").Attr("src"); src != fmt.Sprintf("/images/%d", ids[0]) {
		t.Errorf("first photo %q", src)
	}
	thumbs := doc.Find(`[data-testid="gallery-thumb"]`)
	if thumbs.Length() != 8 {
		t.Errorf("%d thumbnails", thumbs.Length())
	}
	thumbs.Each(func(i int, s *goquery.Selection) {
		href, _ := s.Attr("href")
		target, _ := slides.Eq(i).Attr("id")
		if href != "#"+target {
			t.Errorf("thumbnail %d links to %q, photo id %q", i+1, href, target)
		}
	})

	before := count(t, a, `SELECT count(*) FROM images`) + count(t, a, `SELECT count(*) FROM auctions`)
	for _, htmx := range []bool{false, true} {
		var header []string
		if htmx {
			header = []string{"HX-Request", "true"}
		}
		resp, doc := seller.postPhotos(t, "/auctions", sellVals("Too many"), append(eight, sizedPhoto(t, 50, 30)), header...)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("nine photos (htmx %v): %d", htmx, resp.StatusCode)
		}
		if msg := doc.Find(`[data-testid="error-image"]`).Text(); !strings.Contains(msg, "8") {
			t.Errorf("nine photos (htmx %v): message %q", htmx, msg)
		}
		if v, _ := doc.Find(`#title`).Attr("value"); v != "Too many" {
			t.Errorf("the refused form lost its title: %q", v)
		}
	}
	if after := count(t, a, `SELECT count(*) FROM images`) + count(t, a, `SELECT count(*) FROM auctions`); after != before {
		t.Errorf("refused listings stored %d rows", after-before)
	}
}

func TestABadPhotoAmongSeveralIsNamedAndNothingIsStored(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	resp, doc := seller.postPhotos(t, "/auctions", sellVals("Lamp"), [][]byte{sizedPhoto(t, 40, 30), []byte("not a photo")})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if msg := doc.Find(`[data-testid="error-image"]`).Text(); !strings.Contains(msg, "2") {
		t.Errorf("message %q does not name photo 2", msg)
	}
	if n := count(t, a, `SELECT count(*) FROM images`); n != 0 {
		t.Errorf("%d images stored", n)
	}
}

// exifJPEG is a 60×40 JPEG whose top-left 20×20 corner is red, with an
// APP1 Exif segment carrying Orientation o written after SOI, as a phone
// camera writes it.
func exifJPEG(t *testing.T, o uint16) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 60, 40))
	for y := range 40 {
		for x := range 60 {
			c := color.RGBA{0, 0, 255, 255}
			if x < 20 && y < 20 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08") // big-endian, IFD0 at 8
	tiff = binary.BigEndian.AppendUint16(tiff, 1)
	tiff = append(tiff, 0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1) // Orientation, SHORT, 1 value
	tiff = binary.BigEndian.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0, 0, 0, 0, 0) // padding, no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff...)
	data := enc.Bytes()
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1}, binary.BigEndian.AppendUint16(nil, uint16(len(seg)+2))...)
	out = append(out, seg...)
	return append(out, data[2:]...)
}

func TestAPortraitPhoneJPEGIsStoredUpright(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	id := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Portrait"), [][]byte{exifJPEG(t, 6)}))
	var w, h int
	var large []byte
	if err := a.DB.QueryRowContext(context.Background(), `SELECT i.width, i.height, i.large FROM auctions a
		JOIN images i ON i.id = a.image_id WHERE a.id = ?`, id).Scan(&w, &h, &large); err != nil {
		t.Fatal(err)
	}
	if w != 40 || h != 60 {
		t.Fatalf("stored %d×%d, want 40×60: orientation 6 turns the stored landscape a quarter clockwise", w, h)
	}
	// Served as stored: the red corner, top-left in the file, is top-right.
	resp, err := http.Get(a.URL + fmt.Sprintf("/images/%d", cover(t, a, id)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	img, err := jpeg.Decode(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	red := func(c color.Color) bool { r, g, b, _ := c.RGBA(); return r > 0xc000 && g < 0x4000 && b < 0x4000 }
	if !red(img.At(35, 5)) || red(img.At(5, 5)) {
		t.Errorf("top-right %v, top-left %v: not upright", img.At(35, 5), img.At(5, 5))
	}
	if bytes.Contains(large, []byte("Exif")) {
		t.Error("the EXIF segment was kept")
	}
}

// editVals is an edit of the title and description.
func editVals(title, desc string) url.Values {
	return url.Values{"title": {title}, "description": {desc}}
}

func TestTheSellerEditsTitleDescriptionAndPhotosBeforeTheFirstBid(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	id := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Camra"), [][]byte{sizedPhoto(t, 40, 30), sizedPhoto(t, 41, 30)}))
	path := fmt.Sprintf("/auctions/%d", id)

	_, doc := seller.get(t, path)
	if href, _ := doc.Find(`[data-testid="edit-listing"]`).Attr("href"); href != path+"/edit" {
		t.Errorf("the seller's room has no edit link: %q", href)
	}
	_, doc = seller.get(t, path+"/edit")
	if doc.Find(`[data-testid="edit-form"]`).Length() != 1 || doc.Find(`[data-testid="edit-photo"]`).Length() != 2 {
		t.Fatal("the edit page lacks its form or photos")
	}
	resp, doc := seller.postPhotos(t, path+"/edit", editVals("Camera", "Mint, with its case"), [][]byte{sizedPhoto(t, 42, 30)})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != path+"?edited=1" {
		t.Fatalf("edit: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), doc.Find(".field__error").Text())
	}
	_, doc = a.newClient().get(t, path)
	if got := doc.Find(`[data-testid="room-title"]`).Text(); got != "Camera" {
		t.Errorf("title %q", got)
	}
	if got := doc.Find(`[data-testid="description"]`).Text(); got != "Mint, with its case" {
		t.Errorf("description %q", got)
	}
	ids, widths := photosOf(t, a, id)
	if fmt.Sprint(widths) != "[40 41 42]" {
		t.Fatalf("photos %v after adding one", widths)
	}

	// Reorder: the third becomes the cover; then the old cover is removed.
	if resp, _ := seller.postForm(t, fmt.Sprintf("%s/photos/%d/move", path, ids[2]), url.Values{"to": {"0"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("move: %d", resp.StatusCode)
	}
	if _, w := photosOf(t, a, id); fmt.Sprint(w) != "[42 40 41]" || cover(t, a, id) != ids[2] {
		t.Errorf("after making the third the cover: %v, cover %d", w, cover(t, a, id))
	}
	if resp, _ := seller.postForm(t, fmt.Sprintf("%s/photos/%d/remove", path, ids[0]), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	if _, w := photosOf(t, a, id); fmt.Sprint(w) != "[42 41]" {
		t.Errorf("after removing one: %v", w)
	}
	_, doc = a.newClient().get(t, path)
	if src, _ := doc.Find(`[data-testid="gallery-photo"] img`).First().Attr("src"); src != fmt.Sprintf("/images/%d", ids[2]) {
		t.Errorf("the room's first photo is %q, want the new cover", src)
	}

	// Too many photos in all: 2 there, 7 more.
	var seven [][]byte
	for range 7 {
		seven = append(seven, sizedPhoto(t, 50, 30))
	}
	images := count(t, a, `SELECT count(*) FROM images`)
	resp, doc = seller.postPhotos(t, path+"/edit", editVals("Camera!", ""), seven)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(`[data-testid="error-image"]`).Text(), "6") {
		t.Errorf("9 photos in all: %d %q", resp.StatusCode, doc.Find(`[data-testid="error-image"]`).Text())
	}
	if count(t, a, `SELECT count(*) FROM images`) != images || doc.Find(`#title`).AttrOr("value", "") != "Camera!" {
		t.Error("a refused edit stored photos or lost what was typed")
	}
	if _, doc = a.newClient().get(t, path); doc.Find(`[data-testid="room-title"]`).Text() != "Camera" {
		t.Error("a refused edit changed the title")
	}
	// An empty title is refused with its message.
	if resp, doc := seller.postPhotos(t, path+"/edit", editVals("  ", ""), nil); resp.StatusCode != http.StatusUnprocessableEntity ||
		doc.Find(`[data-testid="error-title"]`).Text() == "" {
		t.Errorf("empty title: %d", resp.StatusCode)
	}
	// The last photo cannot go.
	seller.postForm(t, fmt.Sprintf("%s/photos/%d/remove", path, ids[2]), nil)
	if resp, _ := seller.postForm(t, fmt.Sprintf("%s/photos/%d/remove", path, ids[1]), nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("removing the last photo: %d, want 409", resp.StatusCode)
	}
	if ids, _ := photosOf(t, a, id); len(ids) != 1 {
		t.Errorf("%d photos left", len(ids))
	}
}

func TestNobodyButTheSellerEditsReordersRemovesAddsToOrRelists(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"SHORT_AUCTION": "2s"})
	seller := a.as(t, "seller")
	id := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Vase"), [][]byte{sizedPhoto(t, 40, 30), sizedPhoto(t, 41, 30)}))
	path := fmt.Sprintf("/auctions/%d", id)
	ids, _ := photosOf(t, a, id)
	other := a.as(t, "other")
	// The other user's own photo may not be added to the seller's listing
	// through the edit either: edits only ever append new uploads.
	for _, try := range []struct {
		name string
		do   func() *http.Response
	}{
		{"edit page", func() *http.Response { r, _ := other.get(t, path+"/edit"); return r }},
		{"edit", func() *http.Response {
			r, _ := other.postPhotos(t, path+"/edit", editVals("Mine now", ""), [][]byte{sizedPhoto(t, 44, 30)})
			return r
		}},
		{"move", func() *http.Response {
			r, _ := other.postForm(t, fmt.Sprintf("%s/photos/%d/move", path, ids[1]), url.Values{"to": {"0"}})
			return r
		}},
		{"remove", func() *http.Response {
			r, _ := other.postForm(t, fmt.Sprintf("%s/photos/%d/remove", path, ids[1]), nil)
			return r
		}},
		{"addendum", func() *http.Response {
			r, _ := other.postForm(t, path+"/addenda", url.Values{"addendum": {"free shipping"}})
			return r
		}},
		{"relist", func() *http.Response {
			r, _ := other.postForm(t, path+"/relist", url.Values{"duration": {"1h0m0s"}})
			return r
		}},
	} {
		if resp := try.do(); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s by another user: %d, want 403", try.name, resp.StatusCode)
		}
	}
	// Signed out: sent to sign in.
	if resp, _ := a.newClient().get(t, path+"/edit"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("edit page signed out: %d", resp.StatusCode)
	}
	if got, w := photosOf(t, a, id); fmt.Sprint(w) != "[40 41]" || got[0] != ids[0] {
		t.Errorf("photos changed: %v", w)
	}
	if n := count(t, a, `SELECT count(*) FROM auctions WHERE title <> 'Vase'`) + count(t, a, `SELECT count(*) FROM auction_addenda`) +
		count(t, a, `SELECT count(*) FROM images`); n != 2 {
		t.Errorf("refused changes left %d rows beyond the 2 photos", n-2)
	}
}

func TestEditIsRefusedAfterTheFirstBidAndAnAddendumShowsAsSuchWithItsTime(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	id := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Clock"), [][]byte{sizedPhoto(t, 40, 30), sizedPhoto(t, 41, 30)}))
	path := fmt.Sprintf("/auctions/%d", id)
	ids, _ := photosOf(t, a, id)
	// Before the first bid, the description is edited, not added to.
	if resp, _ := seller.postForm(t, path+"/addenda", url.Values{"addendum": {"too early"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("addendum before the first bid: %d, want 409", resp.StatusCode)
	}
	if code, doc := a.as(t, "bidder").bid(t, id, 10_000, ""); code != http.StatusOK {
		t.Fatalf("bid: %d %s", code, doc.Text())
	}
	resp, _ := seller.postPhotos(t, path+"/edit", editVals("Clock (broken)", "changed"), nil)
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("edit after the first bid: %d, want 409", resp.StatusCode)
	}
	for _, p := range []string{fmt.Sprintf("%s/photos/%d/move", path, ids[1]), fmt.Sprintf("%s/photos/%d/remove", path, ids[1])} {
		if resp, _ := seller.postForm(t, p, url.Values{"to": {"0"}}); resp.StatusCode != http.StatusConflict {
			t.Errorf("%s after the first bid: %d, want 409", p, resp.StatusCode)
		}
	}
	if n := count(t, a, `SELECT count(*) FROM auctions WHERE title = 'Clock' AND description = 'Seen from every side' AND image_id = ? AND edited_at IS NULL`, ids[0]); n != 1 {
		t.Error("a refused edit changed the listing")
	}
	if _, w := photosOf(t, a, id); fmt.Sprint(w) != "[40 41]" {
		t.Errorf("photos %v", w)
	}
	_, doc := seller.get(t, path+"/edit")
	if doc.Find(`[data-testid="edit-form"]`).Length() != 0 || doc.Find(`[data-testid="addendum-form"]`).Length() != 1 {
		t.Fatal("with bids the edit page should offer only an addendum")
	}
	// An empty or too long addendum is refused with its message.
	if resp, doc := seller.postForm(t, path+"/addenda", url.Values{"addendum": {strings.Repeat("x", 501)}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		doc.Find(`[data-testid="error-addendum"]`).Text() == "" {
		t.Errorf("a 501-character addendum: %d", resp.StatusCode)
	}
	if resp, _ := seller.postForm(t, path+"/addenda", url.Values{"addendum": {"Also comes with its key."}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("addendum: %d", resp.StatusCode)
	}
	for _, lang := range []string{"en", "ko"} {
		_, doc = a.newClient().get(t, path+"?lang="+lang)
		add := doc.Find(`[data-testid="addendum"]`)
		if add.Length() != 1 || !strings.Contains(add.Text(), "Also comes with its key.") {
			t.Fatalf("%s: the room shows %d addenda: %q", lang, add.Length(), add.Text())
		}
		if dt, _ := add.Find("time").Attr("datetime"); dt == "" {
			t.Errorf("%s: the addendum has no time", lang)
		}
		want := map[string]string{"en": "Added by the seller", "ko": "판매자 추가 설명"}[lang]
		if !strings.Contains(add.Text(), want) {
			t.Errorf("%s: the addendum is not marked as one: %q", lang, add.Text())
		}
		if got := doc.Find(`[data-testid="description"]`).Text(); got != "Seen from every side" {
			t.Errorf("%s: the description itself changed: %q", lang, got)
		}
	}
}

// waitEnded waits for auction id's end to pass.
func waitEnded(t *testing.T, a *testApp, id int64) {
	t.Helper()
	waitFor(t, 10*time.Second, "the end", func() bool {
		return count(t, a, `SELECT count(*) FROM auctions WHERE id = ? AND ends_at < now()`, id) == 1
	})
}

func TestRelistFromUnsoldAndCancelledButNotFromSoldOrRunning(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"SHORT_AUCTION": "2s", "SOFT_CLOSE_WINDOW": "0"})
	seller := a.as(t, "seller")
	bidder := a.as(t, "bidder")

	running := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Running"), [][]byte{sizedPhoto(t, 40, 30)}))
	cancelled := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Cancelled"), [][]byte{sizedPhoto(t, 40, 30), sizedPhoto(t, 41, 30)}))
	unsold := listed(t)(seller.postPhotos(t, "/auctions", url.Values{"title": {"Unsold"}, "start_price": {"5000"}, "duration": {"2s"}}, [][]byte{sizedPhoto(t, 40, 30)}))
	sold := listed(t)(seller.postPhotos(t, "/auctions", url.Values{"title": {"Sold"}, "start_price": {"5000"}, "duration": {"2s"}}, [][]byte{sizedPhoto(t, 40, 30)}))
	if code, _ := bidder.bid(t, sold, 5000, ""); code != http.StatusOK {
		t.Fatalf("bid: %d", code)
	}
	if resp, _ := seller.postForm(t, fmt.Sprintf("/auctions/%d/cancel", cancelled), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	waitEnded(t, a, unsold)
	waitEnded(t, a, sold)
	settle(t, a.DB)

	relist := func(id int64, vals url.Values) (*http.Response, *goquery.Document) {
		return seller.postForm(t, fmt.Sprintf("/auctions/%d/relist", id), vals)
	}
	auctions := count(t, a, `SELECT count(*) FROM auctions`)
	for name, id := range map[string]int64{"running": running, "sold": sold} {
		if resp, _ := relist(id, url.Values{"duration": {"1h0m0s"}}); resp.StatusCode != http.StatusConflict {
			t.Errorf("relist %s: %d, want 409", name, resp.StatusCode)
		}
	}
	// A higher start price, or a duration not offered, is refused with its
	// message next to the field.
	resp, doc := relist(cancelled, url.Values{"duration": {"1h0m0s"}, "start_price": {"20000"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="error-start_price"]`).Text() == "" {
		t.Errorf("a higher start price: %d", resp.StatusCode)
	}
	resp, doc = relist(cancelled, url.Values{"duration": {"5h"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="error-duration"]`).Text() == "" {
		t.Errorf("a duration not offered: %d", resp.StatusCode)
	}
	if n := count(t, a, `SELECT count(*) FROM auctions`); n != auctions {
		t.Fatalf("refused relistings made %d auctions", n-auctions)
	}

	// The seller's room of a cancelled auction offers the relist form.
	_, doc = seller.get(t, fmt.Sprintf("/auctions/%d", cancelled))
	if doc.Find(`[data-testid="relist-form"]`).Length() != 1 {
		t.Fatal("no relist form on the cancelled auction's room")
	}
	if _, doc := a.newClient().get(t, fmt.Sprintf("/auctions/%d", cancelled)); doc.Find(`[data-testid="relist-form"]`).Length() != 0 {
		t.Error("a visitor sees the relist form")
	}
	oldPhotos, _ := photosOf(t, a, cancelled)
	again := listed(t)(relist(cancelled, url.Values{"duration": {"1h0m0s"}, "start_price": {"8000"}}))
	var title, desc string
	var start, price int64
	var status string
	var long bool
	if err := a.DB.QueryRowContext(context.Background(), `SELECT title, description, start_price, current_price, status,
		ends_at - starts_at = interval '1 hour' FROM auctions WHERE id = ? AND relisted_from = ?`, again, cancelled).
		Scan(&title, &desc, &start, &price, &status, &long); err != nil {
		t.Fatal(err)
	}
	if title != "Cancelled" || desc != "Seen from every side" || start != 8000 || price != 8000 || status != "open" || !long {
		t.Errorf("relisted as %q %q start %d price %d %s (an hour: %v)", title, desc, start, price, status, long)
	}
	if got, _ := photosOf(t, a, again); fmt.Sprint(got) != fmt.Sprint(oldPhotos) {
		t.Errorf("relisted photos %v, want the same %v", got, oldPhotos)
	}
	// The old room links to the new one, and the new one back.
	_, doc = a.newClient().get(t, fmt.Sprintf("/auctions/%d", cancelled))
	if href, _ := doc.Find(`[data-testid="relisted-as"] a`).Attr("href"); href != fmt.Sprintf("/auctions/%d", again) {
		t.Errorf("the old room links to %q", href)
	}
	_, doc = a.newClient().get(t, fmt.Sprintf("/auctions/%d", again))
	if href, _ := doc.Find(`[data-testid="relisted-from"] a`).Attr("href"); href != fmt.Sprintf("/auctions/%d", cancelled) {
		t.Errorf("the new room links back to %q", href)
	}
	// Once only.
	if resp, _ := relist(cancelled, url.Values{"duration": {"1h0m0s"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("relisting twice: %d, want 409", resp.StatusCode)
	}

	// Unsold: the same start price when none is given.
	fromUnsold := listed(t)(relist(unsold, url.Values{"duration": {"2s"}}))
	if n := count(t, a, `SELECT count(*) FROM auctions WHERE id = ? AND start_price = 5000 AND title = 'Unsold' AND relisted_from = ?`, fromUnsold, unsold); n != 1 {
		t.Error("relisting the unsold auction did not copy it")
	}
}

func TestSellerDashboardFiltersRunningSoldAndUnsold(t *testing.T) {
	t.Parallel()
	a := start(t, map[string]string{"SHORT_AUCTION": "2s", "SOFT_CLOSE_WINDOW": "0"})
	seller := a.as(t, "seller")
	bidder := a.as(t, "bidder")
	running := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Running"), [][]byte{sizedPhoto(t, 40, 30)}))
	withReserve := sellVals("With a bid")
	withReserve.Set("reserve", "50000")
	withBid := listed(t)(seller.postPhotos(t, "/auctions", withReserve, [][]byte{sizedPhoto(t, 40, 30)}))
	cancelled := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Cancelled"), [][]byte{sizedPhoto(t, 40, 30)}))
	unsold := listed(t)(seller.postPhotos(t, "/auctions", url.Values{"title": {"Unsold"}, "start_price": {"5000"}, "duration": {"2s"}}, [][]byte{sizedPhoto(t, 40, 30)}))
	sold := listed(t)(seller.postPhotos(t, "/auctions", url.Values{"title": {"Sold"}, "start_price": {"5000"}, "duration": {"2s"}}, [][]byte{sizedPhoto(t, 40, 30)}))
	bidder.bid(t, sold, 5000, "")
	bidder.bid(t, withBid, 12_000, "")
	bidder.bid(t, withBid, 20_000, "") // raises the leader's maximum: no new row
	a.as(t, "third").bid(t, withBid, 15_000, "")
	seller.postForm(t, fmt.Sprintf("/auctions/%d/cancel", cancelled), nil)
	for _, w := range []*testApp{bidder, a.as(t, "watcher")} {
		if resp, _ := w.postForm(t, fmt.Sprintf("/auctions/%d/watch", withBid), url.Values{"watch": {"1"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("watch: %d", resp.StatusCode)
		}
	}
	a.as(t, "elsewhere").sell(t, "Not mine", 1000, "1h0m0s")
	waitEnded(t, a, unsold)
	waitEnded(t, a, sold)
	settle(t, a.DB)

	rowsOf := func(doc *goquery.Document) map[int64]*goquery.Selection {
		m := map[int64]*goquery.Selection{}
		doc.Find(`[data-testid="selling-row"]`).Each(func(_ int, s *goquery.Selection) {
			id, _ := strconv.ParseInt(s.AttrOr("data-auction", ""), 10, 64)
			m[id] = s
		})
		return m
	}
	ids := func(m map[int64]*goquery.Selection) string {
		var out []int64
		for _, id := range []int64{running, withBid, cancelled, unsold, sold} {
			if m[id] != nil {
				out = append(out, id)
			}
		}
		return fmt.Sprint(out)
	}
	for filter, want := range map[string][]int64{
		"":        {running, withBid, cancelled, unsold, sold},
		"running": {running, withBid},
		"sold":    {sold},
		"unsold":  {cancelled, unsold},
	} {
		resp, doc := seller.get(t, "/me/selling?status="+filter)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("filter %q: %d", filter, resp.StatusCode)
		}
		rows := rowsOf(doc)
		if len(rows) != len(want) || ids(rows) != fmt.Sprint(want) {
			t.Errorf("filter %q: rows %s, want %v", filter, ids(rows), want)
		}
		cur := doc.Find(`[data-testid="selling-filters"] [aria-current="page"]`)
		if wantID := "filter-" + map[string]string{"": "all"}[filter] + filter; cur.AttrOr("data-testid", "") != wantID {
			t.Errorf("filter %q: current tab %q", filter, cur.AttrOr("data-testid", ""))
		}
	}
	_, doc := seller.get(t, "/me/selling")
	rows := rowsOf(doc)
	// State and time left (the live countdown), price and bids (live), and
	// what the seller may do next.
	if ph := rows[running].Find(`[data-testid="countdown"]`).AttrOr("data-phase", ""); ph != "open" {
		t.Errorf("running: countdown phase %q", ph)
	}
	if got := rows[withBid].Find(`[data-testid="summary"]`).AttrOr("sse-swap", ""); got != fmt.Sprintf("summary-%d", withBid) {
		t.Errorf("the price and bids do not listen for updates: %q", got)
	}
	if r := rows[withBid].Find(`[data-testid="summary"] [data-testid="reserve"]`); r.AttrOr("data-met", "") != "false" {
		t.Errorf("with a reserve of 50,000 at 15,000: reserve status %q (met %q)", r.Text(), r.AttrOr("data-met", ""))
	}
	// How many watch each listing.
	if got := rows[withBid].Find(`[data-testid="watchers"]`).Text(); !strings.Contains(got, "2") {
		t.Errorf("with a bid: watchers %q, want 2", got)
	}
	if got := rows[running].Find(`[data-testid="watchers"]`).Text(); !strings.Contains(got, "0") {
		t.Errorf("running: watchers %q, want 0", got)
	}
	if rows[running].Find(`[data-testid="reserve"]`).Length() != 0 {
		t.Error("a listing without a reserve shows a reserve status")
	}
	if got := rows[withBid].Find(`[data-testid="summary-bids"]`).Text(); !strings.Contains(got, "3") {
		t.Errorf("with a bid: %q, want 3 bids (the third's and the automatic answer)", got)
	}
	if src := rows[sold].Find(`[data-testid="row-thumb"]`).AttrOr("src", ""); src != fmt.Sprintf("/images/%d/thumb", cover(t, a, sold)) {
		t.Errorf("sold: thumbnail %q", src)
	}
	if got := rows[sold].Find(`[data-testid="summary-price"]`).Text(); got != "₩5,000" {
		t.Errorf("sold: price %q", got)
	}
	if rows[running].Find(`[data-testid="row-edit"]`).Length() != 1 || rows[withBid].Find(`[data-testid="row-addendum"]`).Length() != 1 ||
		rows[unsold].Find(`[data-testid="row-relist"]`).Length() != 1 || rows[cancelled].Find(`[data-testid="row-relist"]`).Length() != 1 ||
		rows[sold].Find("a[data-testid]").Length() != 0 {
		t.Error("the rows do not offer the right next step")
	}
	ev := doc.Find(`[hx-ext="sse"]`).AttrOr("sse-connect", "")
	u, _ := url.Parse(ev)
	watched := "," + u.Query().Get("auctions") + ","
	if !strings.Contains(watched, fmt.Sprintf(",%d,", running)) || strings.Contains(watched, fmt.Sprintf(",%d,", sold)) ||
		u.Query().Get("summary") != "1" {
		t.Errorf("the page streams %q: the open listings' countdowns and summaries only", ev)
	}
	if resp, _ := seller.get(t, "/me/selling?status=bogus"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown filter: %d, want 400", resp.StatusCode)
	}
	if _, doc := seller.get(t, "/me/selling?status=sold&lang=en"); doc.Find(`[aria-current="page"]`).Text() != "Sold" {
		t.Error("the filter tabs are not in English")
	}
}

func TestUploadRoutesTakeEightPhotosWorthOfBodyAndNoMore(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	id := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Lamp"), [][]byte{sizedPhoto(t, 40, 30)}))
	for _, path := range []string{"/auctions", fmt.Sprintf("/auctions/%d/edit", id), fmt.Sprintf("/AUCTIONS/%d/edit/", id)} {
		if resp, _ := declareBody(t, a, path, 42<<20); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("42 MB to %s: %d, want 413", path, resp.StatusCode)
		}
	}
	// The other routes under an auction keep the small limit.
	for _, path := range []string{fmt.Sprintf("/auctions/%d/photos/1/move", id), fmt.Sprintf("/auctions/%d/relist", id), fmt.Sprintf("/auctions/%d/addenda", id)} {
		if resp, _ := declareBody(t, a, path, 200<<10); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("200 KB to %s: %d, want 413", path, resp.StatusCode)
		}
	}
	// Over the old one-photo limit (11 MB) is fine on the edit form: here
	// refused for its padding, not for its size.
	resp, _ := seller.postPhotos(t, fmt.Sprintf("/auctions/%d/edit", id), editVals("Lamp", ""), [][]byte{make([]byte, 12<<20)})
	if resp.StatusCode == http.StatusRequestEntityTooLarge || resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a 12 MB edit: %d, want 422 (the file is over the 10 MB per photo)", resp.StatusCode)
	}
}

func TestTheSellerSetsTheReserveAndBuyItNowBeforeTheFirstBidAsOnTheSellForm(t *testing.T) {
	t.Parallel()
	a := start(t, nil)
	seller := a.as(t, "seller")
	id := listed(t)(seller.postPhotos(t, "/auctions", sellVals("Clock"), [][]byte{sizedPhoto(t, 40, 30)}))
	path := fmt.Sprintf("/auctions/%d", id)
	prices := func() (reserve, buyNow int64) {
		if err := a.DB.QueryRowContext(context.Background(), `SELECT COALESCE(reserve, 0), COALESCE(buy_now, 0) FROM auctions WHERE id = ?`, id).
			Scan(&reserve, &buyNow); err != nil {
			t.Fatal(err)
		}
		return reserve, buyNow
	}
	vals := editVals("Clock", "")
	vals.Set("reserve", "30000")
	vals.Set("buy_now", "40000")
	if resp, doc := seller.postPhotos(t, path+"/edit", vals, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set reserve and Buy It Now: %d %s", resp.StatusCode, doc.Find(".field__error").Text())
	}
	if r, b := prices(); r != 30_000 || b != 40_000 {
		t.Errorf("stored reserve %d, Buy It Now %d", r, b)
	}
	// The edit page shows the seller their own prices.
	_, doc := seller.get(t, path+"/edit")
	if doc.Find(`[data-testid="edit-reserve"]`).AttrOr("value", "") != "30000" || doc.Find(`[data-testid="edit-buy-now"]`).AttrOr("value", "") != "40000" {
		t.Error("the edit page does not show the current reserve and Buy It Now price")
	}
	// The sell form's rules: Buy It Now at least 30 % over the start
	// price (10,000 here) and the reserve at least the start price.
	for field, v := range map[string][2]string{"buy_now": {"", "12000"}, "reserve": {"5000", ""}} {
		bad := editVals("Clock (changed)", "")
		bad.Set("reserve", v[0])
		bad.Set("buy_now", v[1])
		resp, doc := seller.postPhotos(t, path+"/edit", bad, nil)
		if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="error-`+field+`"]`).Text() == "" {
			t.Errorf("a bad %s: %d", field, resp.StatusCode)
		}
	}
	if r, b := prices(); r != 30_000 || b != 40_000 || count(t, a, `SELECT count(*) FROM auctions WHERE title = 'Clock'`) != 1 {
		t.Errorf("a refused edit changed the listing: reserve %d, Buy It Now %d", r, b)
	}
	// Cleared: no reserve, no Buy It Now.
	if resp, _ := seller.postPhotos(t, path+"/edit", url.Values{"title": {"Clock"}, "reserve": {""}, "buy_now": {""}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("clear: %d", resp.StatusCode)
	}
	if r, b := prices(); r != 0 || b != 0 {
		t.Errorf("after clearing: reserve %d, Buy It Now %d", r, b)
	}
	// A visitor never sees the reserve's amount on the edit page (403).
	if resp, _ := a.as(t, "visitor").get(t, path+"/edit"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("edit page for a visitor: %d", resp.StatusCode)
	}
}
