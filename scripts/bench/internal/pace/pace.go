// Package pace makes time.Sleep precise to a fraction of a millisecond, for
// the fixed-rate load generators of the benchmarks.
//
// The Go scheduler checks its timers whenever it switches goroutines, but
// when the process has nothing to run it sleeps in epoll_wait, whose
// timeout is in whole milliseconds: a 0.1–1.5 ms sleep then overshoots by
// 0.6–1 ms at the median and 2–3 ms at p99 on the benchmark machine. A load
// generator pacing requests with it sends them in millisecond bursts that
// queue at the proxy, and one that times requests from when they were due
// measures its own lateness. A periodic timerfd, which epoll watches like
// any file, ends such a sleep at its next tick: with Wake(100 µs), 108 µs
// late on average against 700 µs (BenchmarkSleepOvershoot).
//
// Two ways, for two kinds of load generator:
//
//   - Wake: a goroutine on a periodic timerfd ends every sleep of the process
//     within a period (108 µs late on average for a 500 µs sleep with 100 µs,
//     against 700 µs, BenchmarkSleepOvershoot). For a busy generator
//     (ratebench); each period costs a wake-up, so at 100 µs about half a
//     core on the benchmark VM.
//   - Timer.Until: one timerfd per wait, one wake-up per instant. For a
//     mostly idle generator sending a request per instant (churnbench at
//     1,000 a second). Under load it lags: the scheduler consults epoll only
//     when nothing else is runnable.
package pace

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Ticker fires every period until stopped, on a timerfd.
type Ticker struct {
	f   *os.File
	buf [8]byte
}

// NewTicker starts a Ticker.
func NewTicker(period time.Duration) (*Ticker, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	ts := unix.NsecToTimespec(period.Nanoseconds())
	if err := unix.TimerfdSettime(fd, 0, &unix.ItimerSpec{Interval: ts, Value: ts}, nil); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("timerfd_settime", err)
	}
	// A non-blocking fd: os.NewFile registers it with the runtime's poller.
	return &Ticker{f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// Wait blocks until the next tick.
func (t *Ticker) Wait() error {
	_, err := t.f.Read(t.buf[:])
	return err
}

// Stop releases the timerfd; a Wait in progress returns an error.
func (t *Ticker) Stop() error { return t.f.Close() }

// Timer waits for one instant at a time; it is not safe for concurrent use.
type Timer struct {
	fd  int
	f   *os.File
	buf [8]byte
}

// NewTimer returns a Timer on a non-blocking timerfd.
func NewTimer() (*Timer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	return &Timer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// Until blocks until at (at once if at has passed).
func (t *Timer) Until(at time.Time) error {
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(d.Nanoseconds())}
	if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
		return os.NewSyscallError("timerfd_settime", err)
	}
	_, err := t.f.Read(t.buf[:]) // returns once the timer has fired
	return err
}

// Close releases the timerfd.
func (t *Timer) Close() error { return t.f.Close() }

// Wake makes every time.Sleep of the process end within period of its
// time, until stop is called: a goroutine waits on a Ticker, so the idle
// runtime's epoll_wait returns each period and the scheduler runs the
// timers that are due.
func Wake(period time.Duration) (stop func(), err error) {
	t, err := NewTicker(period)
	if err != nil {
		return nil, err
	}
	go func() {
		for t.Wait() == nil {
		}
	}()
	return func() { t.Stop() }, nil
}
