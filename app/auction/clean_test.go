package auction_test

import (
	"testing"
	"time"

	"gavel/app/auction"
)

func TestListingTextKeepsNoControlCharactersButNewlines(t *testing.T) {
	in := auction.CreateInput{
		SellerID: 1, StartPrice: 1000, Duration: auction.DefaultDuration, ImageID: 1,
		Title:       "x\r\revent: status-42\rdata: closed\x01\x1b[31m\u0085",
		Description: "line one\r\nline two\rthree\tfour\x00",
	}
	if fe := in.Validate(time.Duration(0)); fe != nil {
		t.Fatalf("refused: %v", fe)
	}
	if want := "x\n\nevent: status-42\ndata: closed[31m"; in.Title != want {
		t.Errorf("title %q, want %q", in.Title, want)
	}
	if want := "line one\nline two\nthree four"; in.Description != want {
		t.Errorf("description %q, want %q", in.Description, want)
	}
}
