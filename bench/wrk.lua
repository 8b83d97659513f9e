-- wrk script for bench/bench.py: cycle through the query log's /api/search paths
-- (one per line in the file named after --), each thread from its own offset,
-- and print the figures as one JSON line at the end.
local paths = {}
local counter = 0
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("offset", thread_count * 7919)
end

function init(args)
  for line in io.lines(args[1]) do
    paths[#paths + 1] = line
  end
  counter = offset or 0
end

function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, ' ..
    '"max_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
