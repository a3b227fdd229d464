-- wrk script of scenario 5 (BENCHMARKS.md, "Export inside a server"): every request exports a
-- user drawn at random, as a client of examples/export_in_server would ask for it.
--
--   VELT_BENCH_USERS=1000 wrk -t1 -c64 -d20s --timeout 10s -s bench/export_in_server.lua \
--       http://127.0.0.1:PORT/
--
-- VELT_BENCH_USERS: draw from user-0001 .. user-N (velt-mock-server's ids; default 1000);
-- VELT_BENCH_ORG: the organization (default org-1); VELT_BENCH_SEED: the draws (default 1).
-- At the end it prints one JSON line after wrk's own summary (times in microseconds).
local users = tonumber(os.getenv("VELT_BENCH_USERS") or "1000")
local org = os.getenv("VELT_BENCH_ORG") or "org-1"
math.randomseed(tonumber(os.getenv("VELT_BENCH_SEED") or "1"))

request = function()
  return wrk.format("GET", string.format("/export/%s/user-%04d", org, math.random(users)))
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d},"latency_p50_us":%d,"latency_p99_us":%d,"latency_max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
