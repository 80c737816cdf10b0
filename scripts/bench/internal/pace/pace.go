// Package pace waits until an instant with microsecond precision, for the
// fixed-rate load generators of the benchmarks.
//
// time.Sleep is served by the runtime's poller, whose epoll_wait timeout is
// in whole milliseconds: a sleep of 0.1–1.5 ms overshoots by 0.6–1 ms at the
// median and 2–3 ms at p99 on the benchmark machine. A load generator pacing
// requests with it sends them in millisecond bursts that queue at the
// proxy, and one that times requests from when they were due measures its
// own lateness. A timerfd wakes the same poller when it fires, so the wait
// ends within the kernel's timer precision (tens of microseconds here).
package pace

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Timer waits for one instant at a time; it is not safe for concurrent use.
type Timer struct {
	fd  int
	f   *os.File
	buf [8]byte
}

// New returns a Timer backed by a non-blocking timerfd, which os.NewFile
// registers with the runtime's poller.
func New() (*Timer, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("timerfd_create", err)
	}
	return &Timer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// Until blocks until t (at once if t has passed).
func (t *Timer) Until(at time.Time) error {
	d := time.Until(at)
	if d <= 0 {
		return nil
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(d.Nanoseconds())}
	if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
		return os.NewSyscallError("timerfd_settime", err)
	}
	// The read returns the expiration count once the timer has fired.
	_, err := t.f.Read(t.buf[:])
	return err
}

// Close releases the timerfd.
func (t *Timer) Close() error { return t.f.Close() }

// Ticker fires every period until stopped, on a timerfd like Timer: one
// wake-up per period, however many instants fell in it, so a load
// generator at tens of thousands of requests a second does not pay a timer
// (and its wake-up) per request.
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
	return &Ticker{f: os.NewFile(uintptr(fd), "timerfd")}, nil
}

// Wait blocks until the next tick.
func (t *Ticker) Wait() error {
	_, err := t.f.Read(t.buf[:])
	return err
}

// Stop releases the timerfd.
func (t *Ticker) Stop() error { return t.f.Close() }
