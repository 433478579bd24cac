package web

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// realIPHeader names the client when the peer is a trusted proxy: proxies
// overwrite it, unlike X-Forwarded-For's first entry.
const realIPHeader = "X-Real-IP"

// clientIP is the client's address: the one a trusted proxy names in its
// header when that is a valid IP address, else the peer's. An empty or
// malformed header never becomes an address of its own (every such client
// would share it), and the result is canonical, so one address has one
// spelling.
func clientIP(c *fiber.Ctx) netip.Addr {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	peer = peer.Unmap()
	// With no trusted proxies configured the check is off and Fiber would
	// trust everyone: the header then counts for nothing.
	if !c.App().Config().EnableTrustedProxyCheck || !c.IsProxyTrusted() {
		return peer
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(c.Get(realIPHeader)))
	if err != nil || ip.Zone() != "" {
		return peer
	}
	return ip.Unmap()
}

// clientKey is the rate-limit and stream-cap bucket of the client: its IPv4
// address, or the /64 of its IPv6 address (one subscriber line gets a whole
// /64, so counting per /128 would count nothing).
func clientKey(c *fiber.Ctx) string {
	ip := clientIP(c)
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
