package sweeper

import (
	"context"
	"math"
	"time"

	"github.com/popbill-cashbill-webhook/receiver/internal/alert"
	"github.com/popbill-cashbill-webhook/receiver/internal/awserr"
	"github.com/popbill-cashbill-webhook/receiver/internal/state"
)

// watch is the overdue-result watchdog's share of a run. It reads the
// result queue as a moving window instead of everything due up to now, so
// that the entry of a cashbill that got its result, which no write takes out
// of the queue, costs reads only, once:
//
//   - the watermark is the position (dueAt, itemKey) through which every
//     entry has been examined. Each run reads up to Batch entries after it,
//     due by now-Deadline, raises the overdue alert of those still awaiting
//     their result (RaiseOverdue: one conditional write, a no-op on a second
//     try), skips the others without a write, and moves the watermark,
//     forward only, to the last entry it handled: a failed raise stops it
//     there, and a full batch moves it no further than the batch.
//   - the index is eventually consistent, and a 300 delivered late enters it
//     at most state.ResultHorizon behind its receipt (state.ResultDueAt), so
//     an entry may become visible behind the watermark only in the last
//     ResultHorizon+ResultOverlap before now: each run re-examines that span
//     behind the watermark for entries still awaiting their result. With the
//     default deadline the span holds the last few minutes' entries; with a
//     shorter one it holds the issue days in between.
//
// Two runs at once read the same entries: the raise's condition lets one
// write, and the watermark keeps the later position.
func (s *Sweeper) watch(ctx context.Context, now time.Time, rep *Report, failed func(string), send func(string)) {
	through := now.Add(-s.settings.Deadline)
	// budget bounds the raises of one run, the re-examination's included.
	budget := s.settings.Batch
	raise := func(it state.Item) bool {
		budget--
		rep.Found++
		f := alert.FromEvent(it.Event, it.MID, alert.KindOverdue)
		out, err := s.queues.RaiseOverdue(ctx, it.Event.ItemKey, alert.Encode(f), now)
		switch {
		case err != nil:
			failed(awserr.Cause(err))
			return false
		case out == state.OverdueRaised:
			rep.OverdueRaised++
			send(it.Event.ItemKey)
		}
		return true
	}

	mark, marked, err := s.queues.ResultWatermark(ctx)
	if err != nil {
		failed(awserr.Cause(err))
		return
	}
	if marked {
		s.recheck(ctx, now, through, mark, func(it state.Item) bool { return budget > 0 && raise(it) }, failed)
	}

	entries, err := s.queues.ResultEntries(ctx, mark, through, s.settings.Batch)
	if err != nil {
		failed(awserr.Cause(err))
	}
	handled, whole := mark, true
	for _, e := range entries {
		switch {
		case e.Found && e.Item.AwaitingResult() && budget == 0:
			whole = false // the next run's
		case e.Found && e.Item.AwaitingResult():
			whole = raise(e.Item) && whole
		case e.Found && e.Item.DueQueue == state.QueueResult:
			rep.Found++
			rep.ResultKnown++
		}
		if whole {
			handled = e.At
		}
	}
	if handled != mark {
		if err := s.queues.AdvanceResultWatermark(ctx, handled); err != nil {
			failed(awserr.Cause(err))
		}
	}
}

// recheck re-examines the entries behind the watermark that may have become
// visible after the watermark passed them: those due in the last
// ResultHorizon+ResultOverlap before now.
func (s *Sweeper) recheck(ctx context.Context, now, through time.Time, mark state.Position, raise func(state.Item) bool, failed func(string)) {
	from := now.Add(-state.ResultHorizon - state.ResultOverlap)
	if !from.Before(mark.DueAt) {
		return
	}
	// Through the watermark's dueAt: of that dueAt, the entries after the
	// watermark too (the window reads them again; a raise is done once).
	entries, err := s.queues.ResultEntries(ctx, state.Position{DueAt: from}, minTime(mark.DueAt, through), math.MaxInt32)
	if err != nil {
		failed(awserr.Cause(err))
	}
	for _, e := range entries {
		if e.Found && e.Item.AwaitingResult() {
			raise(e.Item)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
