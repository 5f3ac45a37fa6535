-- wrk script for bench/overhead.py: POST one chat body, report latency percentiles as JSON.
-- Environment: BODY_FILE (request body path), RESULT_FILE (where done() appends a JSON line),
-- BENCH_KEY (the client key sent as a bearer token; default "bench").
-- The first non-2xx answer's status is kept per thread and reported, to explain any errors.
-- A body holding "@@N@@" gets a number unique to the request there (a cache miss every time).
local f = assert(io.open(os.getenv("BODY_FILE"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
local unique = string.find(wrk.body, "@@N@@", 1, true) ~= nil
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_KEY") or "bench")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  bad_status = 0
  count = 0
end

if unique then
  request = function()
    count = count + 1
    local body = string.gsub(wrk.body, "@@N@@", tid .. "-" .. count .. "-" .. math.random(1, 1000000000), 1)
    return wrk.format(nil, nil, nil, body)
  end
end

function response(status, headers, body)
  if status > 299 and bad_status == 0 then
    bad_status = status
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    local s = t:get("bad_status")
    if s and s > 0 then bad = s end
  end
  local out = assert(io.open(os.getenv("RESULT_FILE"), "a"))
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  out:write(string.format(
    '{"requests":%d,"seconds":%.3f,"non2xx":%d,"errors":%d,"first_bad_status":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration / 1e6, summary.errors.status, errors, bad,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
  out:close()
end
