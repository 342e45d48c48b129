-- wrk script for bench/latency.py: requests the paths listed in $PATHS, in order, starting at
-- line $START, and prints p50, p95, requests and errors as one JSON line at the end.
local paths = {}
for line in io.lines(os.getenv("PATHS")) do paths[#paths + 1] = line end
local next_path = tonumber(os.getenv("START") or "0")

request = function()
  next_path = next_path + 1
  return wrk.format("GET", paths[(next_path - 1) % #paths + 1])
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p95_ms": %.2f, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    errors.connect + errors.read + errors.write + errors.status + errors.timeout))
end
