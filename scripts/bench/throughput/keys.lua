-- wrk script for scripts/bench/throughput.sh: every request carries the
-- key-auth key of a random consumer among BENCH_CONSUMERS (app_0 … app_N-1,
-- key "key-app_<i>"). The requests are formatted once in init, so picking one
-- costs wrk the same for every target (targets without key-auth ignore it).
-- done() prints one JSON line the script parses.
local n = tonumber(os.getenv("BENCH_CONSUMERS") or "100000")
local reqs = {}

function init(args)
  math.randomseed(os.time() + tonumber(tostring(reqs):match("0x(%x+)") or "0", 16) % 100000)
  for i = 0, n - 1 do
    reqs[i] = wrk.format(nil, nil, { apikey = "key-app_" .. i })
  end
end

function request()
  return reqs[math.random(0, n - 1)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"bytes":%d,"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
