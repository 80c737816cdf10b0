package dataplane

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"devportal/internal/freeport"
)

// tcpEcho is a real TCP upstream that answers each line with name: line.
func tcpEcho(t *testing.T, name string) (string, int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					fmt.Fprintf(c, "%s: %s", name, line)
				}
			}()
		}
	}()
	return "127.0.0.1", l.Addr().(*net.TCPAddr).Port
}

func freePort(t *testing.T) int {
	p, err := freeport.Port()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func talk(t *testing.T, port int, msg string) (string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, msg+"\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func TestStreamRoutes(t *testing.T) {
	e := newEnv(t)
	host, port := tcpEcho(t, "tcp-a")
	listen := freePort(t)
	e.put("upstreams/tcp", map[string]any{"type": "roundrobin", "nodes": []any{map[string]any{"host": host, "port": port, "weight": 1}}})
	e.put("stream_routes/s1", map[string]any{"server_port": listen, "upstream_id": "tcp"})
	eventually(t, 5*time.Second, func() bool {
		got, err := talk(t, listen, "hello")
		return err == nil && got == "tcp-a: hello"
	})
	// remote_addr that excludes the client: the connection is closed.
	e.put("stream_routes/s1", map[string]any{"server_port": listen, "remote_addr": "10.0.0.0/8", "upstream_id": "tcp"})
	if got, err := talk(t, listen, "hello"); err == nil {
		t.Fatalf("connection from outside remote_addr was proxied: %q", got)
	}
	e.put("stream_routes/s1", map[string]any{"server_port": listen, "remote_addr": "127.0.0.1", "upstream_id": "tcp"})
	if got, err := talk(t, listen, "again"); err != nil || got != "tcp-a: again" {
		t.Fatalf("talk: %q %v", got, err)
	}
	// Deleting the stream route closes the port.
	e.del("stream_routes/s1")
	eventually(t, 5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", listen), time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
}
