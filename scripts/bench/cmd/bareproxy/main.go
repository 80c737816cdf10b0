// Command bareproxy is the floor under the node in the throughput benchmark
// (scripts/bench/throughput.sh with BENCH_FLOOR=1): a fasthttp server whose
// handler only sends each request on to one upstream with a fasthttp client,
// configured as the node's proxy core is (timeouts, keep-alive, no header
// normalizing on the client side), without routing, plugins, forwarding
// headers or metrics. What it costs per request is what any proxy built on
// Go and fasthttp costs on the machine.
package main

import (
	"flag"
	"log"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:19300", "address to serve")
	upstream := flag.String("upstream", "127.0.0.1:18081", "the upstream's host:port")
	flag.Parse()
	hc := &fasthttp.HostClient{
		Addr:                          *upstream,
		MaxConns:                      1024,
		ReadTimeout:                   60 * time.Second,
		WriteTimeout:                  60 * time.Second,
		MaxIdleConnDuration:           60 * time.Second,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		NoDefaultUserAgentHeader:      true,
	}
	srv := &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			if err := hc.Do(&ctx.Request, &ctx.Response); err != nil {
				ctx.Error("bad gateway", fasthttp.StatusBadGateway)
			}
		},
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		ReadTimeout:           60 * time.Second,
		IdleTimeout:           75 * time.Second,
	}
	log.Fatal(srv.ListenAndServe(*listen))
}
