package i18n

// auctionMessages covers selling, bidding and photo uploads. Messages that
// show an amount take it as one %s, already formatted as money.
var auctionMessages = map[string]entry{
	// Bidding refusals (auction.Error keys).
	"bid.not_found":          {"해당 경매가 존재하지 않습니다.", "That auction does not exist."},
	"bid.own_auction":        {"자신의 경매에는 입찰할 수 없습니다.", "You cannot bid on your own auction."},
	"bid.ended":              {"경매가 이미 종료되었습니다.", "This auction has already ended."},
	"bid.amount_invalid":     {"입찰가는 ₩1부터 ₩1,000,000,000,000까지의 정수여야 합니다.", "A bid must be a whole amount from ₩1 to ₩1,000,000,000,000."},
	"bid.below_start":        {"시작 가격 이상으로 입찰해야 합니다. 최소 입찰가는 %s입니다.", "Bid at least the starting price. The minimum bid is %s."},
	"bid.too_low":            {"이전 입찰가보다 높아야 합니다. 최소 입찰가는 %s입니다.", "Bid more than the current bid. The minimum bid is %s."},
	"bid.max_not_higher":     {"이미 최고 입찰자입니다. 최대 입찰가(%s)보다 높은 금액으로만 올릴 수 있습니다.", "You already lead. You can only raise your maximum (%s)."},
	"bid.unconfirmed":        {"입찰이 접수되었는지 아직 확인하지 못했습니다. 새로 고침하여 확인해 주세요.", "We could not confirm whether your bid went through. Reload the page to see."},
	"bid.insufficient_funds": {"잔액이 부족합니다. 사용 가능한 금액은 %s입니다.", "Not enough funds. You have %s available."},
	"bid.message_too_long":   {"메시지는 100자 이하로 입력해 주세요.", "Keep the message to 100 characters or fewer."},
	"bid.unavailable":        {"지금은 입찰할 수 없습니다. 잠시 후 다시 시도해 주세요.", "Bidding is unavailable right now. Please try again shortly."},

	// Listing form (auction.FieldErrors values) and cancelling.
	"auction.title_required":       {"상품명을 입력해 주세요.", "Enter a title."},
	"auction.title_too_long":       {"상품명은 100자 이하로 입력해 주세요.", "Keep the title to 100 characters or fewer."},
	"auction.description_too_long": {"설명은 2,000자 이하로 입력해 주세요.", "Keep the description to 2,000 characters or fewer."},
	"auction.price_invalid":        {"시작 가격은 ₩1부터 ₩1,000,000,000,000까지의 정수여야 합니다.", "The starting price must be a whole amount from ₩1 to ₩1,000,000,000,000."},
	"auction.duration_invalid":     {"경매 기간을 목록에서 선택해 주세요.", "Choose an auction length from the list."},
	"auction.image_required":       {"상품 사진을 올려 주세요.", "Upload a photo of the item."},
	"auction.image_invalid":        {"사진을 다시 올려 주세요.", "Please upload the photo again."},
	"auction.not_seller":           {"판매자만 이 경매를 변경할 수 있습니다.", "Only the seller can change this auction."},
	"auction.cannot_cancel":        {"입찰이 있거나 종료된 경매는 취소할 수 없습니다.", "An auction with bids, or one that has ended, cannot be cancelled."},

	// Photo uploads (media.Key values).
	"media.too_large":       {"사진은 10MB 이하여야 합니다.", "The photo must be 10 MB or smaller."},
	"media.too_many_pixels": {"사진은 4천만 화소 이하여야 합니다.", "The photo must be 40 megapixels or fewer."},
	"media.not_an_image":    {"JPEG, PNG, WebP, GIF 사진만 올릴 수 있습니다.", "Upload a JPEG, PNG, WebP or GIF photo."},
	"media.not_found":       {"사진을 찾을 수 없습니다.", "We couldn't find that photo."},
}
