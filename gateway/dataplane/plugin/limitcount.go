package plugin

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LimitCount is APISIX's limit-count with the local policy: at most Count
// requests per key in a fixed window of TimeWindow seconds.
type LimitCount struct {
	Count                int64   `json:"count"`
	TimeWindow           int64   `json:"time_window"`
	KeyType              string  `json:"key_type"`
	Key                  string  `json:"key"`
	RejectedCode         int     `json:"rejected_code"`
	RejectedMsg          *string `json:"rejected_msg"`
	Policy               string  `json:"policy"`
	WindowType           string  `json:"window_type"`
	Group                string  `json:"group"`
	ShowLimitQuotaHeader *bool   `json:"show_limit_quota_header"`
	AllowDegradation     bool    `json:"allow_degradation"`

	scope   string // counters' owner: group, or the route/service and this configuration
	varName string // Key without its "$", for key_type var
	window  time.Duration
	limit   string
	showHdr bool
	reject  *Reply
	store   *Counters
}

// NewLimitCount compiles a limit-count configuration owned by scope.
func NewLimitCount(raw json.RawMessage, scope Scope) (*LimitCount, error) {
	l := &LimitCount{KeyType: "var", Key: "remote_addr", RejectedCode: 503, Policy: "local", WindowType: "fixed"}
	if err := decodeObject(raw, l); err != nil {
		return nil, err
	}
	if hasField(raw, "rules") {
		return nil, fmt.Errorf("rules are not supported by this node")
	}
	if l.Count <= 0 || l.TimeWindow <= 0 {
		return nil, fmt.Errorf("count and time_window are required and must be positive integers")
	}
	switch l.KeyType {
	case "var", "var_combination", "constant":
	default:
		return nil, fmt.Errorf("property \"key_type\" validation failed: matches none of the enum values")
	}
	if l.RejectedCode < 200 || l.RejectedCode > 599 {
		return nil, fmt.Errorf("property \"rejected_code\" validation failed: must be in [200, 599]")
	}
	if l.RejectedMsg != nil && *l.RejectedMsg == "" {
		return nil, fmt.Errorf("property \"rejected_msg\" validation failed: string too short")
	}
	if l.Policy != "local" {
		return nil, fmt.Errorf("policy %q is not supported by this node (only local)", l.Policy)
	}
	if l.WindowType != "fixed" {
		return nil, fmt.Errorf("window_type %q is not supported by this node (only fixed)", l.WindowType)
	}
	l.showHdr = l.ShowLimitQuotaHeader == nil || *l.ShowLimitQuotaHeader
	l.varName = strings.TrimPrefix(l.Key, "$")
	l.window = time.Duration(l.TimeWindow) * time.Second
	l.limit = strconv.FormatInt(l.Count, 10)
	if l.Group != "" {
		l.scope = "group:" + l.Group
	} else {
		// The counter survives changes elsewhere in the route (a whitelist
		// edit) but restarts when this plugin's configuration changes.
		sum := sha256.Sum256(raw)
		l.scope = string(scope) + ":" + hex.EncodeToString(sum[:8])
	}
	if l.RejectedMsg != nil {
		l.reject = JSONReply(l.RejectedCode, "error_msg", *l.RejectedMsg)
	} else {
		l.reject = StatusReply(l.RejectedCode)
	}
	l.store = DefaultCounters
	return l, nil
}

// WithCounters makes l count in store (tests use their own).
func (l *LimitCount) WithCounters(store *Counters) { l.store = store }

// Access counts the request and rejects it over the limit.
func (l *LimitCount) Access(c *Ctx) *Reply {
	var key string
	switch l.KeyType {
	case "constant":
		key = l.Key
	case "var_combination":
		var n int
		key, n = c.ResolveVars(l.Key)
		if n == 0 {
			key = ""
		}
	default:
		key = c.Var(l.varName)
	}
	if key == "" {
		key = c.RemoteAddr // APISIX falls back to the client IP
	}
	var memo *atomic.Pointer[window]
	if c.Consumer != nil {
		memo = &c.Consumer.memo.window
	}
	remaining, reset, ok := l.store.incoming(memo, l.scope, key, l.Count, l.window, 1)
	resetStr := formatReset(reset)
	if !ok {
		if !l.showHdr {
			return l.reject
		}
		r := *l.reject
		r.Headers = []Header{{"X-RateLimit-Limit", l.limit}, {"X-RateLimit-Remaining", "0"}, {"X-RateLimit-Reset", resetStr}}
		return &r
	}
	if l.showHdr {
		c.RespHeaders = append(c.RespHeaders,
			Header{"X-RateLimit-Limit", l.limit},
			Header{"X-RateLimit-Remaining", strconv.FormatInt(remaining, 10)},
			Header{"X-RateLimit-Reset", resetStr})
	}
	return nil
}

// formatReset writes seconds as APISIX does: floored to hundredths, without
// trailing zeros ("59.87", "1.5", "60"). It counts in integers: it runs on
// every request, and formatting a float costs several times as much.
func formatReset(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	hundredths := int64(d / (10 * time.Millisecond))
	var b [24]byte
	out := strconv.AppendInt(b[:0], hundredths/100, 10)
	if frac := hundredths % 100; frac != 0 {
		out = append(out, '.', byte('0'+frac/10))
		if frac%10 != 0 {
			out = append(out, byte('0'+frac%10))
		}
	}
	return string(out)
}

// Counters are fixed-window counters shared by every snapshot, so a
// configuration change elsewhere never resets them.
type Counters struct {
	shards [64]counterShard
	now    func() time.Time
}

type counterShard struct {
	mu sync.Mutex
	m  map[counterKey]*window
}

type counterKey struct{ scope, key string }

// window is one key's count. Its fields are guarded by its shard's lock.
type window struct {
	remaining int64
	end       time.Time
	// What it counts and where it is kept, for consumers that remember it
	// (incoming). gone is set when Sweep drops it from the shard.
	scope, key string
	owner      *Counters
	shard      *counterShard
	gone       bool
}

// DefaultCounters is the node's counter store.
var DefaultCounters = NewCounters(time.Now)

// NewCounters makes a store reading the time from now.
func NewCounters(now func() time.Time) *Counters {
	c := &Counters{now: now}
	for i := range c.shards {
		c.shards[i].m = map[counterKey]*window{}
	}
	return c
}

var counterSeed = maphash.MakeSeed()

// Incoming takes cost from key's window: the remaining count, the time to
// the window's end, and whether the request is allowed.
func (c *Counters) Incoming(scope, key string, limit int64, win time.Duration, cost int64) (int64, time.Duration, bool) {
	return c.incoming(nil, scope, key, limit, win, cost)
}

// incoming is Incoming for a consumer that remembers, in memo (nil for
// none), the window it took last: its next request on the same route
// finds the window without hashing two strings twice and searching a
// table of 100,000 windows.
func (c *Counters) incoming(memo *atomic.Pointer[window], scope, key string, limit int64, win time.Duration, cost int64) (int64, time.Duration, bool) {
	now := c.now()
	if memo != nil {
		if w := memo.Load(); w != nil && w.owner == c && w.scope == scope && w.key == key {
			w.shard.mu.Lock()
			if !w.gone {
				return w.take(now, limit, win, cost)
			}
			w.shard.mu.Unlock()
		}
	}
	sh := &c.shards[(maphash.String(counterSeed, key)^maphash.String(counterSeed, scope))%uint64(len(c.shards))]
	sh.mu.Lock()
	k := counterKey{scope, key}
	w := sh.m[k]
	if w == nil {
		w = &window{scope: scope, key: key, owner: c, shard: sh}
		sh.m[k] = w
	}
	if memo != nil {
		memo.Store(w)
	}
	return w.take(now, limit, win, cost)
}

// take counts cost in w, whose shard is locked, and unlocks it.
func (w *window) take(now time.Time, limit int64, win time.Duration, cost int64) (int64, time.Duration, bool) {
	first := false
	if !now.Before(w.end) {
		w.remaining = limit
		w.end = now.Add(win)
		first = true
	}
	w.remaining -= cost
	remaining := w.remaining
	reset := w.end.Sub(now)
	w.shard.mu.Unlock()
	if first {
		reset = win
	}
	if remaining < 0 {
		return 0, reset, false
	}
	return remaining, reset, true
}

// Sweep drops the windows that have ended; the node calls it on a timer.
func (c *Counters) Sweep() {
	now := c.now()
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		for k, w := range sh.m {
			if !now.Before(w.end) {
				w.gone = true
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
}
