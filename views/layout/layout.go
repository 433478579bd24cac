// Package layout is the page frame every full page is drawn in.
package layout

import (
	"encoding/json"
	"net/url"

	"gavel/app/i18n"
)

// htmxConfig keeps htmx within a CSP without 'unsafe-inline' or eval: no
// injected indicator <style>, no eval, no inline scripts from swapped
// content; and 4xx answers (validation errors, refused bids) are swapped
// like 2xx so the message shows next to the form.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},` +
	`{"code":"4..","swap":true,"error":false},{"code":"...","swap":false,"error":true}]}`

// csrfHeaders is the hx-headers value that makes htmx send the CSRF token
// with every request.
func csrfHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

// loginURL is the sign-in link that brings the user back to path.
func loginURL(path string) string {
	if path == "" || path == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(path)
}

func langName(l i18n.Lang) string { return "lang." + string(l) }
