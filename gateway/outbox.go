package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"devportal/gateway/etcdstore"
	"devportal/internal/apperr"
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
func (s *Service) RunOutbox(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.DrainOutbox(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("outbox: changes wait for etcd", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// DrainOutbox applies every due entry, group by group and in ID order within
// a group; a group whose etcd fails keeps its entries for the next pass and
// does not hold the others back. It returns how many entries it applied.
func (s *Service) DrainOutbox(ctx context.Context) (int, error) {
	var groups []string
	err := s.db.WithContext(ctx).Model(&models.OutboxEntry{}).
		Where("applied_at IS NULL AND not_before <= ?", s.now()).Distinct().Pluck("group_id", &groups).Error
	if err != nil {
		return 0, err
	}
	applied := 0
	var errs []error
	for _, gid := range groups {
		n, err := s.drainGroup(ctx, gid)
		applied += n
		if err != nil {
			errs = append(errs, fmt.Errorf("group %s: %w", gid, err))
		}
	}
	return applied, errors.Join(errs...)
}

// PendingOutbox counts entries not applied yet (due or not).
func (s *Service) PendingOutbox(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&models.OutboxEntry{}).Where("applied_at IS NULL").Count(&n).Error
	return n, err
}

func (s *Service) drainGroup(ctx context.Context, groupID string) (int, error) {
	g, groupErr := s.group(ctx, s.db, groupID)
	if groupErr != nil && !errors.Is(groupErr, apperr.ErrNotFound) {
		return 0, groupErr
	}
	applied := 0
	for {
		var rows []models.OutboxEntry
		err := s.db.WithContext(ctx).Where("group_id = ? AND applied_at IS NULL AND not_before <= ?", groupID, s.now()).
			Order("id").Limit(outboxBatch).Find(&rows).Error
		if err != nil || len(rows) == 0 {
			return applied, err
		}
		if groupErr != nil {
			// The group is gone: nothing left to change there.
			return applied, s.markApplied(ctx, rows)
		}
		n, err := s.applyEntries(ctx, g, rows)
		applied += n
		if err != nil {
			s.db.WithContext(ctx).Model(&models.OutboxEntry{}).Where("id = ?", rows[n].ID).
				Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_error": truncate(err.Error(), 1000)})
			return applied, err
		}
		if len(rows) < outboxBatch {
			return applied, nil
		}
	}
}

// applyEntries applies rows in order, as few etcd transactions as the rules
// allow: each touched key is read and written once per transaction, with
// every op on it applied in order. A consumer delete removes a key range,
// which etcd will not mix with writes under it, so it goes alone. It returns
// how many rows it applied before an error.
func (s *Service) applyEntries(ctx context.Context, g models.GatewayGroup, rows []models.OutboxEntry) (int, error) {
	done := 0
	for done < len(rows) {
		end, plan, err := s.planEntries(ctx, g, rows[done:])
		if err != nil && !errors.Is(err, errUnreadable) {
			return done, err
		}
		if err != nil {
			// A payload this version cannot read: skip it, loudly, rather than block the group.
			s.log.Error("outbox: skipping an unreadable entry", "id", rows[done].ID, "err", err)
			if err := s.markApplied(ctx, rows[done:done+1]); err != nil {
				return done, err
			}
			done++
			continue
		}
		if err := s.apply(ctx, g, plan); err != nil {
			return done, err
		}
		if err := s.markApplied(ctx, rows[done:done+end]); err != nil {
			return done, err
		}
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

func (s *Service) markApplied(ctx context.Context, rows []models.OutboxEntry) error {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	now := s.now()
	return s.db.WithContext(ctx).Model(&models.OutboxEntry{}).Where("id IN ?", ids).
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
