package notify

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/uptrace/bun"
)

// Options configure a Service.
type Options struct {
	Log *slog.Logger
	// LeadUnit is what one minute of a user's reminder lead time
	// (notify_prefs.remind_before) stands for: a minute, unless a test
	// needs reminders within seconds.
	LeadUnit time.Duration
	// ScanEvery is how often the auctions ending within the longest lead
	// are looked at for bidders to remind (default a minute).
	ScanEvery time.Duration
	// PurgeEvery is how often read notifications past Retention are
	// deleted (default six hours).
	PurgeEvery time.Duration
	// Poll is how often each instance's queue looks for due jobs
	// (default a second: database/sql cannot LISTEN, so River polls).
	Poll time.Duration
	// Mail sends mail; nil sends none.
	Mail *Mailer
	// MailEvery is how often the mail outbox is moved into mail jobs
	// (default two seconds).
	MailEvery time.Duration
	// NoWork queues jobs but runs none here (nor the periodic ones): for
	// tests of other parts that count goroutines.
	NoWork bool
}

// Service is the notification side of one instance: the River client
// that runs reminders, mail and the purge, and the writes that queue them
// in their cause's transaction. Every instance runs one; River elects one
// leader for the periodic jobs, and each job runs on one instance at a
// time.
type Service struct {
	db     *bun.DB
	log    *slog.Logger
	opt    Options
	client *river.Client[*sql.Tx]
}

// Lead times a user may choose, in minutes (0: no reminders), and the
// default.
var Leads = []int{15, 60, 180, 0}

// DefaultLead is the reminder lead of a user who chose none.
const DefaultLead = 60

// maxLead is the longest lead, in minutes.
const maxLead = 180

// NewService builds the service on db (whose schema has River's tables:
// migrations 0031 and 0032). Start it with Start.
func NewService(db *bun.DB, opt Options) (*Service, error) {
	opt.Log = cmp.Or(opt.Log, slog.New(slog.DiscardHandler))
	opt.LeadUnit = cmp.Or(opt.LeadUnit, time.Minute)
	opt.ScanEvery = cmp.Or(opt.ScanEvery, time.Minute)
	opt.PurgeEvery = cmp.Or(opt.PurgeEvery, 6*time.Hour)
	opt.Poll = cmp.Or(opt.Poll, time.Second)
	opt.MailEvery = cmp.Or(opt.MailEvery, 2*time.Second)
	s := &Service{db: db, log: opt.Log, opt: opt}
	workers := river.NewWorkers()
	river.AddWorker(workers, &reminderWorker{s: s})
	river.AddWorker(workers, &scanWorker{s: s})
	river.AddWorker(workers, &purgeWorker{s: s})
	s.addMailWorker(workers)
	client, err := river.NewClient(riverdatabasesql.New(db.DB), &river.Config{
		Logger:            opt.Log,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers:           workers,
		FetchPollInterval: opt.Poll,
		FetchCooldown:     min(opt.Poll, 100*time.Millisecond),
		PollOnly:          true,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(opt.ScanEvery),
				func() (river.JobArgs, *river.InsertOpts) { return ScanArgs{}, nil },
				&river.PeriodicJobOpts{ID: "reminder-scan", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(opt.PurgeEvery),
				func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
				&river.PeriodicJobOpts{ID: "notification-purge", RunOnStart: true}),
			river.NewPeriodicJob(river.PeriodicInterval(opt.MailEvery),
				func() (river.JobArgs, *river.InsertOpts) { return OutboxArgs{}, nil },
				&river.PeriodicJobOpts{ID: "mail-outbox", RunOnStart: true}),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	s.client = client
	return s, nil
}

// Run runs the queue until ctx ends, then stops it, letting running jobs
// finish for a few seconds.
func (s *Service) Run(ctx context.Context) {
	if s.opt.NoWork {
		return
	}
	if err := s.client.Start(ctx); err != nil {
		s.log.Error("job queue: start", "err", err)
		return
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.client.Stop(sctx); err != nil {
		s.log.Warn("job queue: stop", "err", err)
	}
}

// Watch is the package's Watch, with the ending-soon reminder of a new
// watch queued in the same transaction. A nil Service queues none.
func (s *Service) Watch(ctx context.Context, db bun.IDB, user, auction int64, on bool) (bool, error) {
	if s == nil {
		return Watch(ctx, db, user, auction, on, nil)
	}
	return Watch(ctx, db, user, auction, on, func(ctx context.Context, tx bun.Tx) error {
		_, err := s.client.InsertTx(ctx, tx.Tx, ReminderArgs{UserID: user, AuctionID: auction}, nil)
		return err
	})
}

// Lead returns user's reminder lead in minutes (0: off).
func Lead(ctx context.Context, db bun.IDB, user int64) (int, error) {
	lead := DefaultLead
	err := db.QueryRowContext(ctx, `SELECT remind_before FROM notify_prefs WHERE user_id = ?`, user).Scan(&lead)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("reminder lead of %d: %w", user, err)
	}
	return lead, nil
}

// ErrBadLead is SetLead's answer to a lead time not in Leads.
var ErrBadLead = errors.New("notify: no such reminder lead")

// SetLead sets user's reminder lead in minutes, one of Leads.
func SetLead(ctx context.Context, db bun.IDB, user int64, lead int) error {
	ok := false
	for _, l := range Leads {
		ok = ok || l == lead
	}
	if !ok {
		return ErrBadLead
	}
	_, err := db.ExecContext(ctx, `INSERT INTO notify_prefs (user_id, remind_before) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET remind_before = EXCLUDED.remind_before`, user, lead)
	if err != nil {
		return fmt.Errorf("set reminder lead of %d: %w", user, err)
	}
	return nil
}

// ReminderArgs is the ending-soon reminder of one user and auction. River
// keeps one such job per pair (unique by its arguments); the reminder row
// itself is unique per pair too (notifications_ending_once), so it is
// sent once whatever runs twice.
type ReminderArgs struct {
	UserID    int64 `json:"user_id"`
	AuctionID int64 `json:"auction_id"`
}

// Kind is River's name of the job.
func (ReminderArgs) Kind() string { return "reminder" }

// InsertOpts makes the job unique per (user, auction) among the jobs
// River keeps.
func (ReminderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// maxSnooze bounds one wait of a reminder, so that a changed lead time is
// noticed within it; waits below sleepUnder are slept in the job (River's
// scheduler makes a snoozed job available only every few seconds).
const (
	maxSnooze  = time.Hour
	sleepUnder = 10 * time.Second
)

type reminderWorker struct {
	river.WorkerDefaults[ReminderArgs]
	s *Service
}

// Work sends the reminder once it is due. Each run reads the auction's
// end as it is now (soft close may have moved it) and the user's lead, and
// waits again while the reminder is not due; the row is written only if
// the auction is still open, not yet over, and the reminder was never
// sent. A user who watched or bid after it fell due is not reminded: they
// were there while it was ending.
func (w *reminderWorker) Work(ctx context.Context, job *river.Job[ReminderArgs]) error {
	s, a := w.s, job.Args
	for {
		lead, err := Lead(ctx, s.db, a.UserID)
		if err != nil {
			return err
		}
		if lead == 0 {
			return nil
		}
		leadS := (time.Duration(lead) * s.opt.LeadUnit).Seconds()
		var open, interested, recent bool
		var waitUS int64
		// recent: they watched or bid since the reminder fell due; they
		// know it is ending.
		err = s.db.QueryRowContext(ctx, `SELECT a.status = 'open' AND a.ends_at > now(), a.seller_id <> ?
				AND (EXISTS (SELECT 1 FROM watches WHERE user_id = ? AND auction_id = a.id)
				     OR EXISTS (SELECT 1 FROM bids WHERE auction_id = a.id AND bidder_id = ?)),
			EXISTS (SELECT 1 FROM watches WHERE user_id = ? AND auction_id = a.id
					AND created_at > a.ends_at - make_interval(secs => ?))
				OR EXISTS (SELECT 1 FROM bids WHERE auction_id = a.id AND bidder_id = ?
					AND created_at > a.ends_at - make_interval(secs => ?)),
			(extract(epoch FROM a.ends_at - make_interval(secs => ?) - now()) * 1000000)::bigint
			FROM auctions a WHERE a.id = ?`, a.UserID, a.UserID, a.UserID, a.UserID, leadS, a.UserID, leadS, leadS, a.AuctionID).
			Scan(&open, &interested, &recent, &waitUS)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if !open || !interested || recent {
			return nil
		}
		wait := time.Duration(waitUS) * time.Microsecond
		if wait > sleepUnder {
			return river.JobSnooze(min(wait, maxSnooze))
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			continue // the end may have moved meanwhile
		}
		return s.sendReminder(ctx, a, lead)
	}
}

// sendReminder writes the reminder row (if the auction, re-read in the
// same statement, is still due for one) and its mail job.
func (s *Service) sendReminder(ctx context.Context, a ReminderArgs, lead int) error {
	leadUS := int64(time.Duration(lead)*s.opt.LeadUnit) / 1000
	return s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO notifications (user_id, auction_id, kind, amount)
			SELECT ?, a.id, 'ending_soon', a.current_price FROM auctions a
			WHERE a.id = ? AND a.status = 'open' AND a.ends_at > now()
				AND a.ends_at - make_interval(secs => ? / 1000000.0) <= now()
			ON CONFLICT DO NOTHING RETURNING id`, a.UserID, a.AuctionID, leadUS).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // sent before, or no longer due
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, Channel, fmt.Sprintf("%d %d", id, a.UserID)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `SELECT mail_queue(?, ?, 'ending_soon')`, id, a.UserID)
		return err
	})
}

// ScanArgs is the periodic job that queues the reminders of bidders (a
// watch queues its own): every bidder of an auction ending within the
// longest lead gets a reminder job, unless River holds one already.
type ScanArgs struct{}

// Kind is River's name of the job.
func (ScanArgs) Kind() string { return "reminder_scan" }

type scanWorker struct {
	river.WorkerDefaults[ScanArgs]
	s *Service
}

// Work queues the reminders due within the longest lead and a scan.
func (w *scanWorker) Work(ctx context.Context, job *river.Job[ScanArgs]) error {
	s := w.s
	horizon := time.Duration(maxLead)*s.opt.LeadUnit + 2*s.opt.ScanEvery
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT x.user_id, x.auction_id FROM (
			SELECT b.bidder_id AS user_id, a.id AS auction_id FROM auctions a JOIN bids b ON b.auction_id = a.id
			WHERE a.status = 'open' AND a.ends_at < now() + make_interval(secs => ?)
			UNION ALL
			SELECT w.user_id, a.id FROM auctions a JOIN watches w ON w.auction_id = a.id
			WHERE a.status = 'open' AND a.ends_at < now() + make_interval(secs => ?)) x
		WHERE NOT EXISTS (SELECT 1 FROM notifications n
			WHERE n.user_id = x.user_id AND n.auction_id = x.auction_id AND n.kind = 'ending_soon')`,
		horizon.Seconds(), horizon.Seconds())
	if err != nil {
		return err
	}
	var params []river.InsertManyParams
	for rows.Next() {
		var r ReminderArgs
		if err := rows.Scan(&r.UserID, &r.AuctionID); err != nil {
			rows.Close()
			return err
		}
		params = append(params, river.InsertManyParams{Args: r})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for len(params) > 0 {
		n := min(len(params), 1000)
		if _, err := s.client.InsertMany(ctx, params[:n]); err != nil {
			return err
		}
		params = params[n:]
	}
	return nil
}

// PurgeArgs is the periodic job that deletes read notifications older
// than Retention.
type PurgeArgs struct{}

// Kind is River's name of the job.
func (PurgeArgs) Kind() string { return "notification_purge" }

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	s *Service
}

// Work deletes the read notifications past Retention.
func (w *purgeWorker) Work(ctx context.Context, job *river.Job[PurgeArgs]) error {
	n, err := PurgeRead(ctx, w.s.db, Retention)
	if n > 0 {
		w.s.log.Info("purged read notifications", "count", n)
	}
	if err != nil {
		return err
	}
	_, err = w.s.db.ExecContext(ctx, `DELETE FROM mails WHERE created_at < now() - make_interval(secs => ?)`, Retention.Seconds())
	return err
}

// Mails reports whether this instance sends mail (over SMTP, or into
// /dev/mail in development). A nil Service sends none.
func (s *Service) Mails() bool { return s != nil && s.opt.Mail != nil }
