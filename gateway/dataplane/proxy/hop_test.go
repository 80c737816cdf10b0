package proxy

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"devportal/gateway/dataplane/plugin"
)

// An upstream's hop-by-hop headers go in any case: the client reading the
// response keeps names as they were sent.
func TestDropHopHeaders(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nconnection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Keep: 1\r\n" +
		"proxy-connection: x\r\nUpgrade: h2c\r\nte: trailers\r\nContent-Length: 2\r\n\r\nok"
	var resp fasthttp.Response
	resp.Header.DisableNormalizing()
	if err := resp.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	dropHopHeaders(&resp.Header)
	var left []string
	for k := range resp.Header.All() {
		left = append(left, string(k))
		if plugin.IsHopHeader(k) {
			t.Errorf("%s left", k)
		}
	}
	if string(resp.Header.Peek("X-Keep")) != "1" || len(left) != 3 { // with Content-Length and -Type
		t.Fatalf("headers left: %v", left)
	}
	if string(resp.Body()) != "ok" {
		t.Fatalf("body %q", resp.Body())
	}
}
