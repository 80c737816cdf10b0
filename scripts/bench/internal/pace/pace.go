// Package pace makes a load generator's waits precise to a fraction of a
// millisecond, for the fixed-rate benchmarks.
//
// The Go scheduler checks its timers whenever it switches goroutines, but
// when the process has nothing to run it sleeps in epoll_wait, whose
// timeout is in whole milliseconds: a 0.1–1.5 ms time.Sleep then overshoots
// by 0.6–1 ms at the median and 2–3 ms at p99 on the benchmark machine. A
// load generator pacing requests with it sends them in millisecond bursts
// that queue at the proxy, and one that times requests from when they were
// due measures its own lateness. A timerfd, which epoll watches like any
// file, wakes that epoll_wait when it fires. Two ways to use one, for two
// kinds of load generator:
//
//   - Wake: a goroutine on a periodic timerfd ends every sleep of the process
//     within a period (108 µs late on average for a 500 µs sleep with 100 µs,
//     against 700 µs, BenchmarkSleepOvershoot). For a busy generator
//     (ratebench); each period costs a wake-up, so at 100 µs about half a
//     core on the benchmark VM.
//   - Timer.Until: one wake-up per instant (83 µs late on average,
//     BenchmarkTimerOvershoot). For a mostly idle generator sending a request
//     per instant (churnbench at 1,000 a second). Under load it lags: the
//     scheduler consults epoll only when nothing else is runnable.
package pace

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Timer is a non-blocking timerfd, which os.NewFile registers with the
// runtime's poller. It is not safe for concurrent use.
type Timer struct {
	fd  int
	f   *os.File
	buf [8]byte
}

// NewTimer returns a Timer, not armed.
func NewTimer() (*Timer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	return &Timer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// arm fires the timer after first, then every period (0: once).
func (t *Timer) arm(first, period time.Duration) error {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(first.Nanoseconds()), Interval: unix.NsecToTimespec(period.Nanoseconds())}
	return os.NewSyscallError("timerfd_settime", unix.TimerfdSettime(t.fd, 0, &spec, nil))
}

// Wait blocks until the timer has fired (since the last Wait).
func (t *Timer) Wait() error {
	_, err := t.f.Read(t.buf[:])
	return err
}

// Until blocks until at (at once if at has passed).
func (t *Timer) Until(at time.Time) error {
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	if err := t.arm(d, 0); err != nil {
		return err
	}
	return t.Wait()
}

// Every makes the timer fire every period, from one period on; Wait for each.
func (t *Timer) Every(period time.Duration) error { return t.arm(period, period) }

// Close releases the timerfd; a Wait in progress returns an error.
func (t *Timer) Close() error { return t.f.Close() }

// Wake makes every time.Sleep of the process end within period of its
// time, until stop is called: a goroutine waits on a periodic Timer, so the
// idle runtime's epoll_wait returns each period and the scheduler runs the
// timers that are due.
func Wake(period time.Duration) (stop func(), err error) {
	t, err := NewTimer()
	if err != nil {
		return nil, err
	}
	if err := t.Every(period); err != nil {
		t.Close()
		return nil, err
	}
	go func() {
		for t.Wait() == nil {
		}
	}()
	return func() { t.Close() }, nil
}
