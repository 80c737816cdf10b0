package pace

import (
	"testing"
	"time"
)

// A periodic Timer fires about as often as asked, never faster.
func TestTimerEvery(t *testing.T) {
	tk, err := NewTimer()
	if err != nil {
		t.Fatal(err)
	}
	defer tk.Close()
	if err := tk.Every(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 20 {
		if err := tk.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 19*time.Millisecond {
		t.Fatalf("20 ticks of 1 ms in %v", el)
	}
	tk.Close()
	if tk.Wait() == nil {
		t.Fatal("Wait after Close")
	}
}

// BenchmarkSleepOvershoot reports how late a 500 µs time.Sleep ends, with
// Wake(100 µs) and without (the figures in the package comment).
func BenchmarkSleepOvershoot(b *testing.B) {
	for _, wake := range []bool{false, true} {
		name := "sleep"
		if wake {
			name = "sleep+wake"
		}
		b.Run(name, func(b *testing.B) {
			if wake {
				stop, err := Wake(100 * time.Microsecond)
				if err != nil {
					b.Fatal(err)
				}
				defer stop()
			}
			var late time.Duration
			for b.Loop() {
				at := time.Now().Add(500 * time.Microsecond)
				time.Sleep(time.Until(at))
				late += time.Since(at)
			}
			b.ReportMetric(float64(late.Microseconds())/float64(b.N), "µs-late/op")
		})
	}
}

// Until never returns early, and a past instant does not block.
func TestTimerUntil(t *testing.T) {
	tm, err := NewTimer()
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

// BenchmarkTimerOvershoot reports how late Until(500 µs ahead) returns.
func BenchmarkTimerOvershoot(b *testing.B) {
	tm, err := NewTimer()
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
