package notify

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"
)

// Mailer sends notification mail (see mail.go's later parts).
type Mailer struct{}

func (s *Service) addMailWorker(w *river.Workers) {}

// queueMail queues the mail of notification id, in tx, when mail is on.
func (s *Service) queueMail(ctx context.Context, tx bun.Tx, id, user int64, kind string) error {
	return nil
}
