package plugin

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestSentHeaderFindsHopHeaders(t *testing.T) {
	for raw, want := range map[string]bool{
		"":                                       false,
		"Host: a\r\nX-Time: 12:30\r\n\r\n":       false,
		"Host: a\r\nX-Te: 1\r\nTEA: 2\r\n\r\n":   false,
		"Host: a\r\nte : trailers\r\n\r\n":       true,
		"Host: a\r\nUPGRADE: websocket\r\n\r\n":  true,
		"Host: a\r\nproxy-connection: x\r\n\r\n": true,
		"Keep-Alive: timeout=5\r\n\r\n":          true,
		"Host: a\r\nTrailer: X-Sum":              true, // no line end
	} {
		if got := SentHeader([]byte(raw), IsHopHeader); got != want {
			t.Errorf("SentHeader(%q, IsHopHeader) = %v, want %v", raw, got, want)
		}
	}
}

func parsedRequest(t *testing.T, raw string) *fasthttp.Request {
	t.Helper()
	var req fasthttp.Request
	if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	return &req
}

// Attach replaces what a client sent under the consumer headers, and
// deletes it where the consumer has no value, in any case the client used;
// a second consumer's Attach also deletes what the first one set.
func TestAttachOverridesTheClientsConsumerHeaders(t *testing.T) {
	req := parsedRequest(t, "GET / HTTP/1.1\r\nHost: a\r\nx-consumer-username: spoof\r\n"+
		"X-CREDENTIAL-IDENTIFIER: spoof\r\nX-Keep: 1\r\n\r\n")
	c := &Ctx{Req: req}
	Attach(c, &Consumer{Username: "jack"})
	h := &req.Header
	if got := string(h.Peek("X-Consumer-Username")); got != "jack" {
		t.Fatalf("X-Consumer-Username %q", got)
	}
	if h.Peek("X-Credential-Identifier") != nil || h.Peek("X-Consumer-Custom-Id") != nil {
		t.Fatalf("client's headers kept: %s", h.Header())
	}
	if string(h.Peek("X-Keep")) != "1" {
		t.Fatalf("another header lost: %s", h.Header())
	}

	req = parsedRequest(t, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	c = &Ctx{Req: req}
	Attach(c, &Consumer{Username: "first", CredentialID: "cred-1", CustomID: "c1"})
	Attach(c, &Consumer{Username: "second"})
	h = &req.Header
	if string(h.Peek("X-Consumer-Username")) != "second" || h.Peek("X-Credential-Identifier") != nil || h.Peek("X-Consumer-Custom-Id") != nil {
		t.Fatalf("second consumer's headers: %s", h.Header())
	}
}

func TestIsHopHeader(t *testing.T) {
	for _, h := range HopHeaders {
		for _, name := range []string{h, strings.ToLower(h), strings.ToUpper(h)} {
			if !IsHopHeader([]byte(name)) {
				t.Errorf("IsHopHeader(%q) = false", name)
			}
		}
	}
	for _, name := range []string{"", "T", "Tx", "User-Agent", "Connectiom", "Keep-Alivf", "Trailers", "Upgrade-", "Proxy-Connectio", "X-Te"} {
		if IsHopHeader([]byte(name)) {
			t.Errorf("IsHopHeader(%q) = true", name)
		}
	}
}
