package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"gorm.io/gorm"

	"devportal/gateway/etcdstore"
	"devportal/internal/listing"
	"devportal/models"
)

// errUnreadable marks an outbox entry this version cannot decode.
var errUnreadable = errors.New("unreadable outbox entry")

// outboxBatch is how many entries of a group one etcd transaction applies.
const outboxBatch = 256

// Enqueue records ops for a group inside the caller's database transaction;
// they reach etcd, in order, once the transaction commits and the outbox
// worker runs (call Notify after the commit to run it at once).
func (s *Service) Enqueue(tx *gorm.DB, groupID string, ops ...Op) error {
	return s.EnqueueAt(tx, groupID, time.Time{}, ops...)
}

// EnqueueAt is Enqueue for ops that must not apply before a time (the end of
// a key rotation's grace period).
func (s *Service) EnqueueAt(tx *gorm.DB, groupID string, notBefore time.Time, ops ...Op) error {
	if len(ops) == 0 {
		return nil
	}
	if notBefore.IsZero() {
		notBefore = s.now()
	}
	rows := make([]models.OutboxEntry, len(ops))
	for i, op := range ops {
		if err := op.validate(); err != nil {
			return fmt.Errorf("gateway: outbox op %d: %w", i, err)
		}
		b, err := json.Marshal(op)
		if err != nil {
			return err
		}
		rows[i] = models.OutboxEntry{GroupID: groupID, Payload: string(b), NotBefore: notBefore.UTC()}
	}
	return tx.Create(&rows).Error
}

// Notify wakes the outbox worker; it never blocks.
func (s *Service) Notify() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// RunOutbox applies recorded ops until ctx ends: at once when notified, and
// every interval otherwise (entries other replicas recorded, retries).
//
// A change that arrives during a pass is applied by the next pass, started at
// once. The applied marks are written beside the passes, not in them (see
// drainState), so a change never waits for the marks of the one before.
func (s *Service) RunOutbox(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	st := &drainState{}
	kick := make(chan struct{}, 1)
	marker := make(chan struct{})
	go func() {
		defer close(marker)
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
			}
			if err := s.flushMarks(ctx, st); err != nil && ctx.Err() == nil {
				s.log.Warn("outbox: cannot mark applied entries", "err", err)
			}
		}
	}()
	defer func() {
		<-marker
		// Write the last marks even though ctx has ended; entries whose mark
		// is lost are applied again by the next worker, in order.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.flushMarks(fctx, st); err != nil {
			s.log.Warn("outbox: applied entries left unmarked, they will be applied again", "err", err)
		}
	}()
	// Old applied entries are deleted beside the passes, not between them:
	// scanning a week of entries must not hold a change back.
	pruner := make(chan struct{})
	go func() {
		defer close(pruner)
		every := time.NewTicker(outboxPruneEvery)
		defer every.Stop()
		for {
			if _, err := s.PruneOutbox(ctx, s.now().Add(-OutboxRetention)); err != nil && ctx.Err() == nil {
				s.log.Warn("outbox: cannot delete old applied entries", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-every.C:
			}
		}
	}()
	defer func() { <-pruner }()
	for {
		if _, err := s.drainPass(ctx, st); err != nil && ctx.Err() == nil {
			s.log.Warn("outbox: changes wait for etcd", "err", err)
		}
		select {
		case kick <- struct{}{}:
		default:
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// OutboxRetention is how long applied entries are kept (for looking into
// what was written lately); the worker deletes older ones.
const OutboxRetention = 7 * 24 * time.Hour

const (
	outboxPruneEvery = 10 * time.Minute
	outboxPruneBatch = 5000
)

// PruneOutbox deletes the entries applied before cutoff, a batch at a time
// so that no statement holds the table long, and returns how many. Without
// it the table grew by a row per change for ever. Applied entries are the
// oldest ids, so each batch is read off the primary key's start.
func (s *Service) PruneOutbox(ctx context.Context, cutoff time.Time) (int64, error) {
	var total int64
	for ctx.Err() == nil {
		var ids []int64
		if err := s.db.WithContext(ctx).Model(&models.OutboxEntry{}).
			Where("applied_at IS NOT NULL AND applied_at < ?", cutoff.UTC()).
			Order("id").Limit(outboxPruneBatch).Pluck("id", &ids).Error; err != nil {
			return total, err
		}
		if len(ids) == 0 {
			return total, nil
		}
		res := s.db.WithContext(ctx).Where("id IN ?", ids).Delete(&models.OutboxEntry{})
		if res.Error != nil {
			return total, res.Error
		}
		total += res.RowsAffected
		if len(ids) < outboxPruneBatch {
			return total, nil
		}
	}
	return total, ctx.Err()
}

// DrainOutbox applies every due entry, in ID order within a group; a group
// whose etcd fails keeps its entries for the next pass and does not hold the
// others back. It returns how many entries it applied, all marked applied.
func (s *Service) DrainOutbox(ctx context.Context) (int, error) {
	st := &drainState{}
	n, err := s.drainPass(ctx, st)
	return n, errors.Join(err, s.flushMarks(ctx, st))
}

// outboxMarkBacklog is how many applied entries a worker leaves unmarked at
// most; below outboxBatch, so that each query of a pass brings new entries.
const outboxMarkBacklog = outboxBatch / 2

// drainState is what a worker carries from one pass to the next: the entries
// it has applied to etcd whose applied mark is not written yet. Passes leave
// them out, and the marks are written in one statement, by RunOutbox's
// marker beside the passes (or by the pass itself past outboxMarkBacklog).
// They are always the last entries the worker applied, so entries whose mark
// is lost (a crash) are applied again in their order: at least once, as
// with a crash between the etcd write and the mark.
//
// It also remembers, per etcd cluster, the keys the worker last wrote, so
// the next write of the same key need not read it first (bounded:
// knownKeys keys, knownBytes bytes of values per cluster); only the passes
// use that.
type drainState struct {
	flushing sync.Mutex // one flush at a time
	mu       sync.Mutex
	ids      []int64        // to mark, no flush has them yet
	unmarked map[int64]bool // applied, mark not committed
	known    map[*clientv3.Client]*etcdstore.Known
}

const (
	knownKeys  = 1024
	knownBytes = 8 << 20
)

// knownFor is what st remembers of cli's keys (nil for a nil st).
func (st *drainState) knownFor(cli *clientv3.Client) *etcdstore.Known {
	if st == nil {
		return nil
	}
	if st.known == nil {
		st.known = map[*clientv3.Client]*etcdstore.Known{}
	}
	k := st.known[cli]
	if k == nil {
		k = etcdstore.NewKnown(knownKeys, knownBytes)
		st.known[cli] = k
	}
	return k
}

func (st *drainState) add(rows []models.OutboxEntry) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.unmarked == nil {
		st.unmarked = map[int64]bool{}
	}
	for _, r := range rows {
		st.ids = append(st.ids, r.ID)
		st.unmarked[r.ID] = true
	}
}

// snapshot is a copy of the unmarked set. Taken before a query, it names
// every entry the query may see unapplied although this worker applied it: a
// mark leaves the set only once committed.
func (st *drainState) snapshot() (map[int64]bool, int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.unmarked) == 0 {
		return nil, 0
	}
	return maps.Clone(st.unmarked), len(st.unmarked)
}

// flushMarks writes the applied marks of the entries st holds; on error it
// keeps them for the next flush. When it returns nil, every entry added to
// st before the call is marked.
func (s *Service) flushMarks(ctx context.Context, st *drainState) error {
	st.flushing.Lock()
	defer st.flushing.Unlock()
	st.mu.Lock()
	ids := st.ids
	st.ids = nil
	st.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	err := s.markApplied(ctx, ids)
	st.mu.Lock()
	defer st.mu.Unlock()
	if err != nil {
		st.ids = append(ids, st.ids...)
		return err
	}
	for _, id := range ids {
		delete(st.unmarked, id)
	}
	return nil
}

// dueEntry is an outbox entry with what applying it needs of its group (the
// group's columns are NULL when it was deleted).
type dueEntry struct {
	models.OutboxEntry
	GroupRef           *string
	GroupPrefix        *string
	GroupEtcdEndpoints models.JSON[[]string]
}

// dueEntries reads the next due entries of every group not in skip, in ID
// order, with their groups, in one query. The partial index on pending
// entries serves it (ordering by id+0 keeps SQLite from walking the whole
// table in id order instead).
func (s *Service) dueEntries(ctx context.Context, skip []string) ([]dueEntry, error) {
	q := s.db.WithContext(ctx).Table("outbox_entries AS o").
		Select("o.*, g.id AS group_ref, g.prefix AS group_prefix, g.etcd_endpoints AS group_etcd_endpoints").
		Joins("LEFT JOIN gateway_groups AS g ON g.id = o.group_id").
		Where("o.applied_at IS NULL AND o.not_before <= ?", s.now())
	if len(skip) > 0 {
		q = q.Where("o.group_id NOT IN ?", skip)
	}
	var rows []dueEntry
	err := q.Order("o.id + 0").Limit(outboxBatch).Find(&rows).Error
	return rows, err
}

// drainPass applies the due entries that st does not hold, group by group in
// the order of their oldest entry, and adds them to st.
func (s *Service) drainPass(ctx context.Context, st *drainState) (int, error) {
	applied := 0
	var failed []string // groups whose etcd failed in this pass
	var errs []error
	for {
		unmarked, n := st.snapshot()
		if n >= outboxMarkBacklog {
			if err := s.flushMarks(ctx, st); err != nil {
				return applied, errors.Join(append(errs, err)...)
			}
			unmarked, _ = st.snapshot()
		}
		due, err := s.dueEntries(ctx, failed)
		if err != nil {
			return applied, errors.Join(append(errs, err)...)
		}
		var order []string
		byGroup := map[string][]dueEntry{}
		for _, e := range due {
			if unmarked[e.ID] {
				continue
			}
			if _, ok := byGroup[e.GroupID]; !ok {
				order = append(order, e.GroupID)
			}
			byGroup[e.GroupID] = append(byGroup[e.GroupID], e)
		}
		for _, gid := range order {
			n, err := s.applyGroup(ctx, st, byGroup[gid])
			applied += n
			if err != nil {
				failed = append(failed, gid)
				errs = append(errs, fmt.Errorf("group %s: %w", gid, err))
			}
		}
		if len(due) < outboxBatch {
			return applied, errors.Join(errs...)
		}
	}
}

// applyGroup applies one group's entries, in order, and adds those applied
// to st; the entry that failed counts an attempt.
func (s *Service) applyGroup(ctx context.Context, st *drainState, due []dueEntry) (int, error) {
	rows := make([]models.OutboxEntry, len(due))
	for i, e := range due {
		rows[i] = e.OutboxEntry
	}
	if due[0].GroupRef == nil {
		// The group is gone: nothing left to change there.
		st.add(rows)
		return 0, nil
	}
	g := models.GatewayGroup{ID: due[0].GroupID, Prefix: *due[0].GroupPrefix, EtcdEndpoints: due[0].GroupEtcdEndpoints}
	n, err := s.applyEntries(ctx, st, g, rows)
	if err != nil {
		s.db.WithContext(ctx).Model(&models.OutboxEntry{}).Where("id = ?", rows[n].ID).
			Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_error": truncate(err.Error(), 1000)})
	}
	return n, err
}

// PendingOutbox counts entries not applied yet (due or not).
func (s *Service) PendingOutbox(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&models.OutboxEntry{}).Where("applied_at IS NULL").Count(&n).Error
	return n, err
}

// applyEntries applies rows in order, as few etcd transactions as the rules
// allow: each touched key is read and written once per transaction, with
// every op on it applied in order. A consumer delete removes a key range,
// which etcd will not mix with writes under it, so it goes alone. It adds
// the rows it applied to st and returns how many, up to an error.
func (s *Service) applyEntries(ctx context.Context, st *drainState, g models.GatewayGroup, rows []models.OutboxEntry) (int, error) {
	done := 0
	for done < len(rows) {
		end, plan, err := s.planEntries(ctx, g, rows[done:])
		if err != nil && !errors.Is(err, errUnreadable) {
			return done, err
		}
		if err != nil {
			// A payload this version cannot read: skip it, loudly, rather than block the group.
			s.log.Error("outbox: skipping an unreadable entry", "id", rows[done].ID, "err", err)
			st.add(rows[done : done+1])
			done++
			continue
		}
		if err := s.applyKnown(ctx, g, plan, st); err != nil {
			return done, err
		}
		st.add(rows[done : done+end])
		done += end
	}
	return done, nil
}

// planEntries builds one transaction from the longest run of rows it can hold.
func (s *Service) planEntries(ctx context.Context, g models.GatewayGroup, rows []models.OutboxEntry) (int, etcdstore.Plan, error) {
	var plan etcdstore.Plan
	order := []string{}
	ops := map[string][]Op{}
	now := s.now().Unix()
	limit := s.maxTxnOps
	n := 0
	for _, row := range rows {
		var op Op
		if err := json.Unmarshal([]byte(row.Payload), &op); err != nil || op.validate() != nil {
			if n == 0 {
				return 0, plan, fmt.Errorf("%w: entry %d: %v", errUnreadable, row.ID, err)
			}
			break
		}
		if op.Kind == OpServiceSync {
			if n > 0 {
				break // alone, in the next transaction
			}
			plan, err := s.syncPlan(ctx, g, op)
			return 1, plan, err
		}
		key := op.key(g.Prefix)
		if op.Kind == OpConsumerDelete {
			if n > 0 {
				break // alone, in the next transaction
			}
			plan.DeletePrefixes = []string{key + "/"}
			plan.Puts = []etcdstore.Put{{Key: key, MayReplace: yes, Build: func([]byte) ([]byte, error) { return nil, nil }}}
			return 1, plan, nil
		}
		if _, seen := ops[key]; !seen {
			if limit > 0 && len(order)+1 > limit {
				break
			}
			order = append(order, key)
		}
		ops[key] = append(ops[key], op)
		n++
	}
	for _, key := range order {
		keyOps := ops[key]
		plan.Puts = append(plan.Puts, etcdstore.Put{Key: key, MayReplace: yes, Build: func(cur []byte) ([]byte, error) {
			return applyOps(cur, keyOps, now)
		}})
	}
	return n, plan, nil
}

func yes([]byte) bool { return true }

// markApplied marks entries applied in one statement; on PostgreSQL without
// gorm's transaction around it (a single statement is atomic: one round trip
// instead of three).
func (s *Service) markApplied(ctx context.Context, ids []int64) error {
	db := s.db.WithContext(ctx)
	if db.Dialector.Name() == "postgres" {
		// On SQLite the transaction is kept: it queues the write in the
		// process (models' write queue) rather than on busy_timeout.
		db = db.Session(&gorm.Session{SkipDefaultTransaction: true})
	}
	now := s.now()
	return db.Model(&models.OutboxEntry{}).Where("id IN ?", ids).
		Updates(map[string]any{"applied_at": &now, "last_error": ""}).Error
}

// Backlog is what waits in the outbox because etcd refused or did not answer.
type Backlog struct {
	Waiting   int64     // due entries not applied yet
	Since     time.Time // when the oldest failing entry was recorded
	LastError string    // why it failed, as the worker last saw it
}

// OutboxBacklog tells whether changes are stuck: due entries of which the
// oldest has failed at least once. Zero when the worker keeps up.
func (s *Service) OutboxBacklog(ctx context.Context) (Backlog, error) {
	var b Backlog
	var oldest models.OutboxEntry
	err := s.db.WithContext(ctx).Where("applied_at IS NULL AND attempts > 0").Order("id").Limit(1).Find(&oldest).Error
	if err != nil || oldest.ID == 0 {
		return b, err
	}
	b.Since, b.LastError = oldest.CreatedAt, oldest.LastError
	// Counted up to listing's bound, as pages show counts: an outage may
	// leave many entries waiting.
	b.Waiting, err = listing.Count(s.db.WithContext(ctx).Model(&models.OutboxEntry{}).
		Where("applied_at IS NULL AND not_before <= ?", s.now()))
	return b, err
}
