// Package freeport finds loopback ports for tests that must name a port
// before the server that binds it starts (an etcd member, a child process).
//
// Asking the kernel for port 0 and closing the listener leaves a window in
// which the port can be taken, and outgoing connections draw from that same
// ephemeral range: with test packages running in parallel, that happens.
// Ports here come from below the ephemeral range, where no outgoing
// connection lands, chosen at random so that parallel packages rarely meet.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// low and ephemeralStart bound the ports handed out when the kernel's
// ephemeral range cannot be read.
const (
	low            = 10000
	ephemeralStart = 32768
	attempts       = 100
)

// Addr returns a loopback address whose port was free a moment ago.
func Addr() (string, error) {
	high := ephemeralLow()
	var err error
	for range attempts {
		addr := "127.0.0.1:" + strconv.Itoa(low+rand.IntN(high-low))
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr, nil
		}
	}
	return "", fmt.Errorf("freeport: no free port after %d tries: %w", attempts, err)
}

// Port is Addr's port.
func Port() (int, error) {
	addr, err := Addr()
	if err != nil {
		return 0, err
	}
	_, p, _ := net.SplitHostPort(addr)
	return strconv.Atoi(p)
}

// ephemeralLow is the first port the kernel hands to outgoing connections.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return ephemeralStart
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ephemeralStart
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= low+1000 {
		return ephemeralStart
	}
	return n
}
