package pace

import (
	"testing"
	"time"
)

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
	tk.Stop()
	if tk.Wait() == nil {
		t.Fatal("Wait after Stop")
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
