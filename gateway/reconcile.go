package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"devportal/gateway/apisix"
	"devportal/gateway/etcdstore"
	"devportal/internal/apperr"
	"devportal/models"
)

// StateSource tells the reconciler what else a group should hold beyond its
// published services: the portal's consumers, credentials, policies and
// whitelists, as the ops that would write them (in order).
type StateSource interface {
	GroupOps(ctx context.Context, groupID string) ([]Op, error)
}

// Drift is one key whose etcd value is not what the database says.
type Drift struct {
	Key    string   `json:"key"`
	Kind   string   `json:"kind"`
	ID     string   `json:"id"`
	Issue  string   `json:"issue"`            // missing, changed or unexpected
	Fields []string `json:"fields,omitempty"` // top-level fields that differ (plugins.x for plugins)
}

// Drift issues.
const (
	DriftMissing    = "missing"
	DriftChanged    = "changed"
	DriftUnexpected = "unexpected"
)

// Report is what a reconciliation found and did.
type Report struct {
	GroupID  string    `json:"gateway_group_id"`
	Checked  int       `json:"checked"`
	Drift    []Drift   `json:"drift"`
	Repaired int       `json:"repaired"`
	At       time.Time `json:"at"`
}

// desired computes every key the database says the group holds, with its value.
func (s *Service) desired(ctx context.Context, g models.GatewayGroup, src StateSource) (map[string][]byte, error) {
	var rows []models.PublishedService
	if err := s.db.WithContext(ctx).Where("group_id = ?", g.ID).Order("service_id").Find(&rows).Error; err != nil {
		return nil, err
	}
	now := s.now().Unix()
	out := map[string][]byte{}
	for i := range rows {
		res, err := renderService(g.Prefix, &rows[i])
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			v, err := r.stamp(now)(nil)
			if err != nil {
				return nil, err
			}
			out[r.key] = v
		}
	}
	if src == nil {
		return out, nil
	}
	ops, err := src.GroupOps(ctx, g.ID)
	if err != nil {
		return nil, err
	}
	// Group the ops by key, keeping their order, and apply each key's run at once.
	byKey := map[string][]Op{}
	var order []string
	for _, op := range ops {
		key := op.key(g.Prefix)
		if _, seen := byKey[key]; !seen {
			order = append(order, key)
		}
		byKey[key] = append(byKey[key], op)
	}
	for _, key := range order {
		cur, ok := out[key]
		if !ok {
			cur = nil
		}
		next, err := applyOps(cur, byKey[key], now)
		if err != nil {
			return nil, err
		}
		if next == nil {
			delete(out, key)
		} else {
			out[key] = next
		}
	}
	return out, nil
}

// managed tells whether an etcd value is the product's to remove when the
// database does not want it: objects it labelled, and application consumers.
func managed(pk apisix.ParsedKey, value []byte) bool {
	var v struct {
		Labels apisix.Labels `json:"labels"`
	}
	_ = json.Unmarshal(value, &v)
	if v.Labels[apisix.LabelManagedBy] == "devportal" {
		return true
	}
	return pk.Kind == apisix.KindConsumers && strings.HasPrefix(pk.ID, "app_") && v.Labels["application_id"] != ""
}

// Diff compares a group's etcd with what the database says it should hold.
func (s *Service) Diff(ctx context.Context, groupID string, src StateSource) (Report, error) {
	g, want, have, err := s.states(ctx, groupID, src)
	if err != nil {
		return Report{}, err
	}
	rep := s.compare(g, want, have)
	s.reports.Store(groupID, rep)
	return rep, nil
}

// LastReport is the group's last drift report on this server (from Diff,
// or from Reconcile, which leaves no drift when it repaired every key):
// computing one reads the group's whole etcd and portal state, too much
// for every view of a page at scale. ok is false before the first.
func (s *Service) LastReport(groupID string) (rep Report, ok bool) {
	v, ok := s.reports.Load(groupID)
	if !ok {
		return Report{}, false
	}
	return v.(Report), true
}

// Reconcile repairs a group's etcd from the database: missing and changed
// keys are written, unexpected managed keys removed. Keys that others wrote
// (not labelled by the product) are left alone.
//
// A publish writes etcd just before its database transaction commits, and
// the outbox writes etcd just after; either can fall between the reads of a
// pass and look like drift. So a key is repaired only when a second pass,
// after a short settle, finds the same drift with the same values, and only
// if etcd still holds that value when the repair is written; anything newer
// is left to the writer that made it and to the next pass.
func (s *Service) Reconcile(ctx context.Context, groupID string, src StateSource) (Report, error) {
	g, want, have, err := s.states(ctx, groupID, src)
	if err != nil {
		return Report{}, err
	}
	rep := s.compare(g, want, have)
	if len(rep.Drift) > 0 && s.settle > 0 {
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(s.settle):
		}
		first, firstHave := rep, have
		if g, want, have, err = s.states(ctx, groupID, src); err != nil {
			return Report{}, err
		}
		rep = s.compare(g, want, have)
		seen := map[string]Drift{}
		for _, d := range first.Drift {
			seen[d.Key] = d
		}
		// The same key, issue and fields, and etcd unchanged in between.
		confirmed := rep.Drift[:0]
		for _, d := range rep.Drift {
			if f, ok := seen[d.Key]; ok && reflect.DeepEqual(f, d) && bytes.Equal(firstHave[d.Key], have[d.Key]) {
				confirmed = append(confirmed, d)
			}
		}
		rep.Drift = confirmed
	}
	var plan etcdstore.Plan
	planBytes := 0
	flush := func() error {
		if plan.Ops() == 0 {
			return nil
		}
		err := s.apply(ctx, g, plan)
		plan, planBytes = etcdstore.Plan{}, 0
		return err
	}
	limit := s.maxTxnOps
	if limit <= 0 {
		limit = 128
	}
	for _, d := range rep.Drift {
		value, seen := want[d.Key], have[d.Key]
		if d.Issue == DriftUnexpected {
			value = nil
		}
		// The whole value is replaced by what the database says (nil
		// deletes), unless etcd changed since it was read.
		plan.Puts = append(plan.Puts, etcdstore.Put{Key: d.Key, MayReplace: yes,
			Build: func(cur []byte) ([]byte, error) {
				if !bytes.Equal(cur, seen) {
					return nil, etcdstore.ErrSkip
				}
				return value, nil
			}})
		planBytes += len(d.Key) + len(value)
		// Large whitelists make large values: a transaction also stays
		// well under etcd's request size (1.5 MiB by default).
		if plan.Ops() >= limit || planBytes >= maxPlanBytes {
			if err := flush(); err != nil {
				return rep, err
			}
		}
		rep.Repaired++
	}
	if err := flush(); err != nil {
		rep.Repaired -= len(plan.Puts)
		return rep, err
	}
	if rep.Repaired > 0 {
		s.log.Info("reconcile: repaired drift", "group", g.ID, "keys", rep.Repaired)
	}
	after := rep
	after.Drift = []Drift{}
	s.reports.Store(groupID, after)
	return rep, nil
}

// maxPlanBytes bounds the keys and values one reconcile transaction writes.
const maxPlanBytes = 1 << 20

func (s *Service) states(ctx context.Context, groupID string, src StateSource) (models.GatewayGroup, map[string][]byte, map[string][]byte, error) {
	g, err := s.group(ctx, s.db, groupID)
	if err != nil {
		return g, nil, nil, err
	}
	// etcd is read before the database: the outbox writes etcd only after
	// the database commits, so a change that lands in between shows as
	// missing (and is written now, idempotently), never as a value to revert.
	cli, err := s.client(g)
	if err != nil {
		return g, nil, nil, err
	}
	have := map[string][]byte{}
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, kind := range []apisix.Kind{apisix.KindRoutes, apisix.KindServices, apisix.KindUpstreams,
		apisix.KindPluginConfigs, apisix.KindConsumers, apisix.KindStreamRoutes} {
		resp, err := cli.Get(clientv3.WithRequireLeader(tctx), apisix.Dir(g.Prefix, kind), clientv3.WithPrefix())
		if err != nil {
			return g, nil, nil, apperr.Unavailable("etcd", err)
		}
		for _, kv := range resp.Kvs {
			have[string(kv.Key)] = kv.Value
		}
	}
	want, err := s.desired(ctx, g, src)
	if err != nil {
		return g, nil, nil, err
	}
	return g, want, have, nil
}

func (s *Service) compare(g models.GatewayGroup, want, have map[string][]byte) Report {
	rep := Report{GroupID: g.ID, At: s.now(), Drift: []Drift{}}
	for key, w := range want {
		rep.Checked++
		h, ok := have[key]
		if !ok {
			rep.Drift = append(rep.Drift, s.drift(g, key, DriftMissing, nil))
			continue
		}
		if fields := differences(w, h); len(fields) > 0 {
			rep.Drift = append(rep.Drift, s.drift(g, key, DriftChanged, fields))
		}
	}
	for key, h := range have {
		if _, ok := want[key]; ok {
			continue
		}
		pk, ok := apisix.ParseKey(g.Prefix, key)
		if !ok {
			continue
		}
		owner := h
		if pk.CredentialID != "" {
			owner = have[apisix.Key(g.Prefix, apisix.KindConsumers, pk.ID)]
			if owner == nil {
				owner = h
			}
		}
		if managed(pk, owner) {
			rep.Checked++
			rep.Drift = append(rep.Drift, s.drift(g, key, DriftUnexpected, nil))
		}
	}
	sort.Slice(rep.Drift, func(i, j int) bool { return rep.Drift[i].Key < rep.Drift[j].Key })
	return rep
}

func (s *Service) drift(g models.GatewayGroup, key, issue string, fields []string) Drift {
	d := Drift{Key: key, Issue: issue, Fields: fields}
	if pk, ok := apisix.ParseKey(g.Prefix, key); ok {
		d.Kind, d.ID = string(pk.Kind), pk.ID
		if pk.CredentialID != "" {
			d.Kind, d.ID = "credentials", pk.ID+"/"+pk.CredentialID
		}
	}
	return d
}

// differences lists the top-level fields (and plugins) in which two stored
// values differ, ignoring timestamps and the order of whitelists.
func differences(want, have []byte) []string {
	// Values the product wrote are encoded the same way each time, so most
	// differ only in their times: compared as bytes, they need not be
	// decoded (200,000 consumers and credentials at scale, seconds of it).
	if w, ok := stripTimes(want); ok {
		if h, ok := stripTimes(have); ok && bytes.Equal(w, h) {
			return nil
		}
	}
	w, h := normalize(want), normalize(have)
	if w == nil || h == nil {
		return []string{"value"}
	}
	var out []string
	seen := map[string]bool{}
	for k := range w {
		seen[k] = true
	}
	for k := range h {
		seen[k] = true
	}
	for k := range seen {
		if k == "plugins" {
			wp, _ := w[k].(map[string]any)
			hp, _ := h[k].(map[string]any)
			names := map[string]bool{}
			for n := range wp {
				names[n] = true
			}
			for n := range hp {
				names[n] = true
			}
			for n := range names {
				if !reflect.DeepEqual(wp[n], hp[n]) {
					out = append(out, "plugins."+n)
				}
			}
			continue
		}
		if !reflect.DeepEqual(w[k], h[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func normalize(b []byte) map[string]any {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return nil
	}
	delete(m, "create_time")
	delete(m, "update_time")
	if p, ok := m["plugins"].(map[string]any); ok {
		if cr, ok := p["consumer-restriction"].(map[string]any); ok {
			if wl, ok := cr["whitelist"].([]any); ok {
				sort.Slice(wl, func(i, j int) bool { return jsonString(wl[i]) < jsonString(wl[j]) })
			}
		}
	}
	return m
}

func jsonString(v any) string {
	s, _ := v.(string)
	return s
}

// stripTimes is a JSON object's bytes without its top-level create_time
// and update_time members. ok is false when b is not an object this simple
// scan can read (the caller then decodes both values).
func stripTimes(b []byte) ([]byte, bool) {
	if len(b) < 2 || b[0] != '{' {
		return nil, false
	}
	out := make([]byte, 0, len(b))
	out = append(out, '{')
	i := 1
	for {
		if i >= len(b) {
			return nil, false
		}
		if b[i] == '}' {
			if i != len(b)-1 {
				return nil, false
			}
			if out[len(out)-1] == ',' {
				out = out[:len(out)-1]
			}
			return append(out, '}'), true
		}
		// A member: "name":value, then a comma or the end.
		end, ok := skipString(b, i)
		if !ok || end >= len(b) || b[end] != ':' {
			return nil, false
		}
		name := b[i:end]
		vend, ok := skipValue(b, end+1)
		if !ok || vend >= len(b) {
			return nil, false
		}
		drop := string(name) == `"create_time"` || string(name) == `"update_time"`
		if !drop {
			out = append(out, b[i:vend]...)
			out = append(out, ',')
		}
		i = vend
		if b[i] == ',' {
			i++
		}
	}
}

// skipString returns the index after the JSON string starting at b[i].
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index after the JSON value starting at b[i]
// (compact JSON, as json.Marshal writes it).
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	// A number, true, false or null: up to the next delimiter.
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
		i++
	}
	return i, i > start
}
