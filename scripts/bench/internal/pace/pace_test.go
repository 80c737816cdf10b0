package pace

import (
	"testing"
	"time"
)

// The wait never ends early, and a past instant does not block.
func TestUntil(t *testing.T) {
	tm, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	for _, d := range []time.Duration{200 * time.Microsecond, 2 * time.Millisecond} {
		at := time.Now().Add(d)
		if err := tm.Until(at); err != nil {
			t.Fatal(err)
		}
		if now := time.Now(); now.Before(at) {
			t.Fatalf("woke %v early", at.Sub(now))
		}
	}
	start := time.Now()
	if err := tm.Until(start.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 100*time.Millisecond {
		t.Fatalf("a past instant blocked for %v", el)
	}
}

// BenchmarkOvershoot reports how late a 500 µs wait ends (the figure in the
// package comment; compare with time.Sleep in BenchmarkSleepOvershoot).
func BenchmarkOvershoot(b *testing.B) {
	tm, err := New()
	if err != nil {
		b.Fatal(err)
	}
	defer tm.Close()
	var late time.Duration
	for b.Loop() {
		at := time.Now().Add(500 * time.Microsecond)
		if err := tm.Until(at); err != nil {
			b.Fatal(err)
		}
		late += time.Since(at)
	}
	b.ReportMetric(float64(late.Microseconds())/float64(b.N), "µs-late/op")
}

func BenchmarkSleepOvershoot(b *testing.B) {
	var late time.Duration
	for b.Loop() {
		at := time.Now().Add(500 * time.Microsecond)
		time.Sleep(time.Until(at))
		late += time.Since(at)
	}
	b.ReportMetric(float64(late.Microseconds())/float64(b.N), "µs-late/op")
}

// A Ticker ticks about as often as asked, never faster.
func TestTicker(t *testing.T) {
	tk, err := NewTicker(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Stop()
	start := time.Now()
	for range 20 {
		if err := tk.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 19*time.Millisecond {
		t.Fatalf("20 ticks of 1 ms in %v", el)
	}
}
