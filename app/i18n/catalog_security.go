package i18n

// securityMessages are the messages of the security review's fixes
// (issue #11): nickname, upload and listing refusals.
var securityMessages = map[string]entry{
	"profile.nick.start": {"닉네임은 글자나 숫자로 시작해야 합니다.", "Your nickname must start with a letter or a digit."},

	// Photo uploads (media.Key values).
	"media.too_many_scans":        {"이 JPEG 사진은 스캔이 너무 많아 처리할 수 없습니다. 일반(baseline) JPEG나 PNG로 저장해 다시 올려 주세요.", "This JPEG has too many scans to process. Please save it as a baseline JPEG or a PNG and upload it again."},
	"media.too_many_pixels_heavy": {"프로그레시브 JPEG와 16비트 PNG 사진은 1200만 화소 이하여야 합니다.", "Progressive JPEG and 16-bit PNG photos must be 12 megapixels or fewer."},
	"media.too_slow":              {"사진을 처리하는 데 너무 오래 걸립니다. 더 작은 사진을 올려 주세요.", "This photo takes too long to process. Please upload a smaller one."},

	"sell.rate_limited":      {"경매를 너무 많이 등록했습니다. 잠시 후 다시 시도해 주세요.", "You have listed too many items just now. Please wait a while and try again."},
	"sell.edit_rate_limited": {"경매를 너무 자주 수정했습니다. 잠시 후 다시 시도해 주세요.", "You have edited your listings too often just now. Please wait a while and try again."},
}
