package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// bigDoc is a big whitelist route as the control core keeps it, edited
// the way it edits it, and written as it writes it.
type bigDoc struct {
	names   []string
	updated int64
	count   int
	desc    string
}

func newBigDoc(n int) *bigDoc {
	d := &bigDoc{updated: 1763900000, count: 1000, desc: "big"}
	for i := 0; i < n; i++ {
		d.names = append(d.names, fmt.Sprintf("app_%d", i))
	}
	return d
}

func (d *bigDoc) value() []byte {
	b, _ := json.Marshal(map[string]any{"id": "big", "uri": "/big/*", "service_id": "s1", "desc": d.desc,
		"labels": map[string]any{"managed_by": "devportal"}, "create_time": 1763800000, "update_time": d.updated,
		"plugins": map[string]any{
			"key-auth":             map[string]any{"hide_credentials": true},
			"consumer-restriction": map[string]any{"type": "consumer_name", "whitelist": d.names},
			"limit-count":          map[string]any{"count": d.count, "time_window": 60, "key_type": "var", "key": "consumer_name", "policy": "local"},
		}})
	return b
}

// edit changes d as one write of the control core might, or returns a
// value edited by hand (escapes, broken JSON) leaving d as it was.
func (d *bigDoc) edit(r *rand.Rand, step int) (string, []byte) {
	fresh := fmt.Sprintf("new_%d", step)
	d.updated++
	switch k := step % 16; k {
	case 0:
		d.names = append([]string{fresh}, d.names...)
		return "add at start", d.value()
	case 1:
		i := r.IntN(len(d.names) + 1)
		d.names = append(d.names[:i], append([]string{fresh}, d.names[i:]...)...)
		return "add in the middle", d.value()
	case 2:
		d.names = append(d.names, fresh)
		return "add at end", d.value()
	case 3:
		i := r.IntN(len(d.names))
		d.names = append(d.names[:i], d.names[i+1:]...)
		return "remove one", d.value()
	case 4:
		d.names[r.IntN(len(d.names))] = fresh
		return "replace one", d.value()
	case 5:
		for n := 0; n < 4; n++ {
			i := r.IntN(len(d.names))
			if n%2 == 0 {
				d.names = append(d.names[:i], append([]string{fmt.Sprintf("%s_%d", fresh, n)}, d.names[i:]...)...)
			} else {
				d.names = append(d.names[:i], d.names[i+1:]...)
			}
		}
		return "several edits", d.value()
	case 6:
		return "update_time only", d.value()
	case 7:
		d.count++
		return "limit-count count", d.value()
	case 8:
		d.desc = fmt.Sprintf("big %d", step)
		return "a member before plugins", d.value()
	case 9:
		d.names = append(d.names, d.names[r.IntN(len(d.names))])
		return "a name twice", d.value()
	case 10:
		d.names = append(d.names[:len(d.names)-1], "last_"+fresh)
		return "replace the last", d.value()
	case 11:
		d.updated--
		v := d.value()
		return "escaped name", bytes.Replace(v, []byte(`"`+d.names[len(d.names)/2]+`"`), []byte(`"a\u0041"`), 1)
	case 12:
		d.updated--
		v := d.value()
		return "broken inside the whitelist", bytes.Replace(v, []byte(`"`+d.names[len(d.names)/3]+`",`), []byte(`"x",,`), 1)
	case 13:
		d.updated--
		v := d.value()
		return "empty whitelist", bytes.Replace(v, []byte(`"whitelist":[`+string(mustJSON(d.names))[1:]), []byte(`"whitelist":[]`), 1)
	case 14:
		d.updated--
		v := d.value()
		return "a name not ASCII", bytes.Replace(v, []byte(`"`+d.names[1]+`"`), []byte(`"é"`), 1)
	default:
		d.updated--
		v := d.value()
		return "unterminated name", bytes.Replace(v, []byte(`"`+d.names[2]+`"`), []byte(`"zz`), 1)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// sameRoute fails unless the big route of got, applied as a change, is
// the one of want, loaded from scratch.
func sameRoute(t *testing.T, what string, got, want *Snapshot, names []string) {
	t.Helper()
	gr, gok := got.routes.Get("big")
	wr, wok := want.routes.Get("big")
	if gok != wok || (gok && !reflect.DeepEqual(gr, wr)) {
		t.Fatalf("%s: route %v %+v, loaded whole %v %+v", what, gok, gr, wok, wr)
	}
	gc, gok := got.Route("big")
	wc, wok := want.Route("big")
	if gok != wok {
		t.Fatalf("%s: compiled %v, loaded whole %v", what, gok, wok)
	}
	if !gok {
		return
	}
	if gc.Reject != wc.Reject || gc.Status != wc.Status || gc.Name != wc.Name || gc.ServiceID != wc.ServiceID ||
		!reflect.DeepEqual(gc.Plugins.Names, wc.Plugins.Names) || !reflect.DeepEqual(gc.Plugins.KeyAuth, wc.Plugins.KeyAuth) {
		t.Fatalf("%s: compiled %+v, loaded whole %+v", what, gc, wc)
	}
	gl, wl := gc.Plugins.LimitCount, wc.Plugins.LimitCount
	if (gl == nil) != (wl == nil) || (gl != nil && (gl.Count != wl.Count || gl.TimeWindow != wl.TimeWindow || gl.Key != wl.Key || gl.KeyType != wl.KeyType)) {
		t.Fatalf("%s: limit-count %+v, loaded whole %+v", what, gl, wl)
	}
	g, w := gc.Plugins.Restriction, wc.Plugins.Restriction
	if (g == nil) != (w == nil) {
		t.Fatalf("%s: restriction %v, loaded whole %v", what, g, w)
	}
	if g == nil {
		return
	}
	if g.Type != w.Type || g.RejectedCode != w.RejectedCode || !reflect.DeepEqual(g.RejectedMsg, w.RejectedMsg) {
		t.Fatalf("%s: restriction %+v, loaded whole %+v", what, g, w)
	}
	for _, n := range names {
		if g.Allows(n) != w.Allows(n) {
			t.Fatalf("%s: %q allowed %v, loaded whole %v", what, n, g.Allows(n), w.Allows(n))
		}
	}
}

// Many writes to a big whitelist route, each applied as a change of the
// previous snapshot, give what loading the value from scratch gives.
func TestBigRouteDeltaMatchesFullDecode(t *testing.T) {
	kr := keyring(t)
	svc := put("services/s1", map[string]any{"id": "s1", "upstream": map[string]any{"nodes": []any{map[string]any{"host": "127.0.0.1", "port": 1980, "weight": 1}}}})
	d := newBigDoc(6100)
	if len(d.value()) < bigValue {
		t.Fatalf("test route of %d bytes is not big", len(d.value()))
	}
	s := Apply(emptySnapshot(), []Event{svc, {Key: prefix + "/routes/big", Value: d.value()}}, prefix, kr, quiet)
	r := rand.New(rand.NewPCG(3, 4))
	seen := map[string]bool{"aA": true, "é": true, "x": true, "zz": true}
	for _, n := range d.names {
		seen[n] = true
	}
	for step := 0; step < 160; step++ {
		what, v := d.edit(r, step)
		for _, n := range d.names {
			seen[n] = true
		}
		names := make([]string, 0, len(seen))
		for n := range seen {
			names = append(names, n)
		}
		ev := Event{Key: prefix + "/routes/big", Value: v}
		next := Apply(s, []Event{ev}, prefix, kr, quiet)
		whole := Apply(emptySnapshot(), []Event{svc, ev}, prefix, kr, quiet)
		sameRoute(t, fmt.Sprintf("step %d (%s)", step, what), next, whole, names)
		s = next
	}
}

// The change is read as one where it can be: the big route it gives is
// the one decodeRouteFast reads, bounds included.
func TestBigRouteNext(t *testing.T) {
	d := newBigDoc(6100)
	prev := decodeRouteFast(d.value())
	r := rand.New(rand.NewPCG(5, 6))
	for step := 0; step < 160; step++ {
		what, v := d.edit(r, step)
		n := prev.next(v)
		// Read whole: a member before the plugins changed, or a name the
		// fast path does not read, or broken JSON.
		wantDelta := !map[int]bool{8: true, 11: true, 12: true, 14: true, 15: true}[step%16]
		if (n != nil) != wantDelta {
			t.Fatalf("step %d (%s): read as a change %v, want %v", step, what, n != nil, wantDelta)
		}
		full := decodeRouteFast(v)
		if n != nil && (full == nil || !reflect.DeepEqual(n, full)) {
			t.Fatalf("step %d (%s): change %+v, whole %+v", step, what, n, full)
		}
		if n == nil {
			n = full
		}
		if n != nil {
			prev = n
		}
	}
}

// A value the fast path cannot read after a big one is decoded whole.
func TestBigRouteDeltaFallsBack(t *testing.T) {
	d := newBigDoc(6100)
	prev := decodeRouteFast(d.value())
	v := d.value()
	for name, in := range map[string][]byte{
		"Plugins":      bytes.Replace(v, []byte(`"plugins"`), []byte(`"Plugins"`), 1),
		"not a route":  []byte(`[]`),
		"truncated":    v[:len(v)-1],
		"with spaces":  bytes.Replace(v, []byte(`,"service_id"`), []byte(` , "service_id"`), 1),
		"two plugins":  bytes.Replace(v, []byte(`"key-auth":`), []byte(`"limit-count":{"count":1,"time_window":1},"key-auth":`), 1),
		"bad field":    bytes.Replace(v, []byte(`"uri":"/big/*"`), []byte(`"uri":5`), 1),
		"tail escaped": bytes.Replace(v, []byte(`"uri":"/big/*"`), []byte(`"uri":"/big/\u002a"`), 1),
		"key in tail":  bytes.Replace(v, []byte(`"service_id":"s1"`), []byte(`"service_id":"s1","x":{"service_id":1}`), 1),
	} {
		want, wantBig, wantErr := decodeRoute(in, nil)
		got, gotBig, err := decodeRoute(in, prev)
		if (err == nil) != (wantErr == nil) || (gotBig == nil) != (wantBig == nil) || (err == nil && !reflect.DeepEqual(got, want)) {
			t.Errorf("%s: %v %v %+v, whole %v %v %+v", name, err, gotBig != nil, got, wantErr, wantBig != nil, want)
		}
		if n := prev.next(in); n != nil && wantBig != nil && !reflect.DeepEqual(n, wantBig) {
			t.Errorf("%s: read as a change differently", name)
		}
	}
}
