package web

import (
	"slices"
	"strconv"
)

// ListKeys is the tabs and pages s keeps lists of, as "view/page", sorted
// (for tests in package web_test).
func ListKeys(s *Server) []string {
	s.lists.mu.Lock()
	defer s.lists.mu.Unlock()
	var keys []string
	for k := range s.lists.pages {
		keys = append(keys, k.view+"/"+strconv.Itoa(k.page))
	}
	slices.Sort(keys)
	return keys
}
