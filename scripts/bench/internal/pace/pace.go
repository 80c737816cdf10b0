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
// (Waiting on the timerfd itself is precise when idle but lags under load:
// the scheduler consults epoll only when nothing else is runnable.)
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
