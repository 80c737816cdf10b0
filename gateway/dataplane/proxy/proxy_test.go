package proxy

import (
	"errors"
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestErrorMapping(t *testing.T) {
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	read := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	cases := []struct {
		err              error
		timeout, retries bool
	}{
		{fasthttp.ErrTimeout, true, false},
		{fasthttp.ErrDialTimeout, true, true},
		{fmt.Errorf("wrapped: %w", os.ErrDeadlineExceeded), true, false},
		{dial, false, true},
		{read, false, false},
		{fasthttp.ErrConnectionClosed, false, false},
	}
	for _, c := range cases {
		if got := isTimeout(c.err); got != c.timeout {
			t.Errorf("isTimeout(%v) = %v", c.err, got)
		}
		if got := retryable(c.err); got != c.retries {
			t.Errorf("retryable(%v) = %v", c.err, got)
		}
	}
}

func TestHostOf(t *testing.T) {
	for in, want := range map[string]string{
		"Example.COM:9080": "example.com",
		"example.com":      "example.com",
		"[::1]:80":         "[::1]",
		"[::1]":            "[::1]",
		"":                 "",
	} {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetHost(in)
		if got := hostOf(&ctx); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", in, got, want)
		}
	}
}
