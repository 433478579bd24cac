package web

import (
	"encoding/xml"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gavel/app/i18n"
	"gavel/views"
)

// sitemapMax bounds the sitemap's auctions (the format allows 50,000 URLs;
// each auction has one per language).
const sitemapMax = 20_000

type sitemapURL struct {
	Loc        string          `xml:"loc"`
	LastMod    string          `xml:"lastmod,omitempty"`
	Alternates []sitemapAltURL `xml:"xhtml:link"`
}

type sitemapAltURL struct {
	Rel      string `xml:"rel,attr"`
	HrefLang string `xml:"hreflang,attr"`
	Href     string `xml:"href,attr"`
}

type sitemapDoc struct {
	XMLName xml.Name     `xml:"urlset"`
	NS      string       `xml:"xmlns,attr"`
	XHTML   string       `xml:"xmlns:xhtml,attr"`
	URLs    []sitemapURL `xml:"url"`
}

// sitemap lists the home page and every open auction, in each language
// with its alternates, for crawlers (/sitemap.xml). It is not HTML: the
// standard XML encoder writes it.
func (s *Server) sitemap(c *fiber.Ctx) error {
	var open []struct {
		ID      int64     `bun:"id"`
		Created time.Time `bun:"created_at"`
	}
	err := s.DB.NewRaw(`SELECT id, created_at FROM auctions WHERE status = 'open' AND ends_at > now() AND NOT hidden
		ORDER BY ends_at, id LIMIT ?`, sitemapMax).Scan(c.UserContext(), &open)
	if err != nil {
		return err
	}
	base := strings.TrimRight(s.Config.BaseURL, "/")
	doc := sitemapDoc{NS: "http://www.sitemaps.org/schemas/sitemap/0.9", XHTML: "http://www.w3.org/1999/xhtml"}
	add := func(path, lastmod string) {
		var alts []sitemapAltURL
		for _, l := range i18n.Langs {
			alts = append(alts, sitemapAltURL{Rel: "alternate", HrefLang: string(l), Href: base + path + "?lang=" + string(l)})
		}
		for _, l := range i18n.Langs {
			doc.URLs = append(doc.URLs, sitemapURL{Loc: base + path + "?lang=" + string(l), LastMod: lastmod, Alternates: alts})
		}
	}
	add("/", "")
	for _, a := range open {
		add(views.AuctionURL(a.ID), a.Created.UTC().Format("2006-01-02"))
	}
	out, err := xml.Marshal(doc)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationXMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	return c.Send(append([]byte(xml.Header), out...))
}
