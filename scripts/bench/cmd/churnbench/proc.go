package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the kernel's USER_HZ, 100 on every Linux we run on.
const clockTicks = 100

// procStat reads a process's CPU time (utime+stime) and start time (since
// boot) from /proc/<pid>/stat.
func procStat(pid int) (cpu, started time.Duration, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	if f[0] == "Z" || f[0] == "X" {
		return 0, 0, fmt.Errorf("process %d has exited", pid)
	}
	// f[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	start, _ := strconv.ParseInt(f[19], 10, 64)
	tick := time.Second / clockTicks
	return time.Duration(ut+st) * tick, time.Duration(start) * tick, nil
}

// uptime is the time since boot.
func uptime() (time.Duration, error) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	secs, err := strconv.ParseFloat(f[0], 64)
	return time.Duration(secs * float64(time.Second)), err
}

// procStatus reads VmRSS and VmHWM, in bytes.
func procStatus(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			hwm = kb << 10
		}
	}
	return rss, hwm, sc.Err()
}

// goMetrics reads the node's Go heap figures from its Prometheus endpoint.
func goMetrics(addr string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{"go_memstats_heap_alloc_bytes": true, "go_memstats_heap_inuse_bytes": true,
		"go_memstats_sys_bytes": true, "go_gc_duration_seconds_count": true, "go_goroutines": true}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if ok && want[name] {
			out[name], _ = strconv.ParseFloat(strings.TrimSpace(val), 64)
		}
	}
	return out, nil
}
