-- load.lua - the wrk script of tests/test_load.sh: each request takes the
-- next path of the list given after "--" (the overview, timelines, diffs),
-- and done() prints one machine-readable line with the error counts and
-- the latency percentiles (microseconds).
local paths = {}
local i = 0

function init(args)
  for _, p in ipairs(args) do
    paths[#paths + 1] = p
  end
  -- Threads start at different places in the rotation.
  i = math.random(0, #paths - 1)
end

function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
