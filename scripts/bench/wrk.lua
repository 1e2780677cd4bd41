-- wrk script for `make bench` (scripts/bench/load.py): sends the persona's session cookie
-- (BENCH_COOKIE) and the TLS proxy's X-Forwarded-Proto, counts answers other than 200
-- (wrk itself counts a redirect to the login page as a success), and prints one JSON line.
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE") or ""
wrk.headers["X-Forwarded-Proto"] = "https"

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   not_ok = 0
end

function response(status, headers, body)
   if status ~= 200 then
      not_ok = not_ok + 1
   end
end

function done(summary, latency, requests)
   local not_200 = 0
   for _, thread in ipairs(threads) do
      not_200 = not_200 + thread:get("not_ok")
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH {"requests": %d, "seconds": %.6f, "not_200": %d, "socket_errors": %d, '
         .. '"p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\n',
      summary.requests, summary.duration / 1e6, not_200,
      errors.connect + errors.read + errors.write + errors.timeout,
      latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3))
end
