package pages

import (
	"net/url"
	"strconv"
	"strings"
)

func listTitle(view string) string {
	switch view {
	case "new":
		return "list.title.new"
	case "ended":
		return "list.title.ended"
	}
	return "home.title"
}

// listURL is the address of a list view with a search.
func listURL(view, query string) string {
	q := url.Values{}
	if view != "" {
		q.Set("view", view)
	}
	if query != "" {
		q.Set("q", query)
	}
	if len(q) == 0 {
		return "/"
	}
	return "/?" + q.Encode()
}

// pageURL adds a page number to a list address.
func pageURL(base string, page int) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	if page <= 1 {
		return base
	}
	return base + sep + "page=" + strconv.Itoa(page)
}
