-- The wrk script of bench/auth.py. Run it with one thread (-t1); the environment tells it what
-- to do:
--
--   BENCH_WRK_MODE    get      the request of the command line, over and over (GET with -H)
--                     login    POST /v1/auth/password-login, cycling through the users of the
--                              input file (one `login password` a line)
--                     refresh  POST /v1/auth/refresh; the input file holds one refresh token a
--                              line, one per session. A session has at most one request in
--                              flight and is always refreshed with the latest token it got
--   BENCH_WRK_INPUT   the input file (login, refresh)
--   BENCH_WRK_RAMP    seconds from the start during which successes are not counted (0.5)
--   BENCH_WRK_OUTPUT  where done() writes one JSON line: requests, ok, failed, starved,
--                     window_s, duration_us, p50_us, p99_us, errors. For login and refresh it
--                     also writes the refresh tokens known at the end to
--                     BENCH_WRK_OUTPUT..".tokens" (refresh: the latest token of every session
--                     not in flight at the end)
--
-- `ok` counts the successes that arrive from the end of the ramp to the last response, and
-- `window_s` is that span: the pipeline is full at both ends, so ok / window_s is the steady
-- rate. (wrk's own requests/s starts from an empty pipeline, and so undercounts by about
-- half the requests in flight.)

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *now);
]])
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local mode = os.getenv("BENCH_WRK_MODE") or "get"
local input = os.getenv("BENCH_WRK_INPUT")
local output = os.getenv("BENCH_WRK_OUTPUT")
local ramp = tonumber(os.getenv("BENCH_WRK_RAMP") or "0.5")
local json_headers = { ["Content-Type"] = "application/json" }
local threads = {}

-- Thread globals, read by done() through thread:get().
ok = 0
failed = 0
starved = 0
tokens = {}
counting_from = 0
last_success = 0

local function succeeded()
  local at = now()
  if at >= counting_from then
    ok = ok + 1
    last_success = at
  end
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then
      lines[#lines + 1] = line
    end
  end
  return lines
end

local function refresh_token_of(body)
  return body:match('"refresh_token"%s*:%s*"([^"]+)"')
end

function setup(thread)
  threads[#threads + 1] = thread
end

if mode == "get" then
  function init(args)
    counting_from = now() + ramp
  end

  function response(status, headers, body)
    if status == 200 then
      succeeded()
    else
      failed = failed + 1
    end
  end
elseif mode == "login" then
  local users = {}
  local next_user = 0

  function init(args)
    counting_from = now() + ramp
    for _, line in ipairs(read_lines(input)) do
      local name, password = line:match("^(%S+) (%S+)$")
      users[#users + 1] = string.format(
        '{"login":"%s","password":"%s","platform":"WEB"}', name, password
      )
    end
  end

  function request()
    next_user = next_user % #users + 1
    return wrk.format("POST", "/v1/auth/password-login", json_headers, users[next_user])
  end

  function response(status, headers, body)
    local token = status == 200 and refresh_token_of(body)
    if token then
      succeeded()
      tokens[#tokens + 1] = token
    else
      failed = failed + 1
    end
  end
elseif mode == "refresh" then
  -- `tokens` is the queue of sessions ready to be refreshed, oldest first.
  function init(args)
    counting_from = now() + ramp
    tokens = read_lines(input)
  end

  function request()
    local token = table.remove(tokens, 1)
    if token == nil then
      -- Every session is in flight (or lost): ask for something harmless instead.
      starved = starved + 1
      return wrk.format("GET", "/healthz")
    end
    local body = string.format('{"refresh_token":"%s"}', token)
    return wrk.format("POST", "/v1/auth/refresh", json_headers, body)
  end

  function response(status, headers, body)
    local token = status == 200 and refresh_token_of(body)
    if token then
      succeeded()
      tokens[#tokens + 1] = token
    elseif status ~= 200 then
      failed = failed + 1
    end
  end
end

function done(summary, latency, requests)
  local total_ok, total_failed, total_starved, known, window = 0, 0, 0, {}, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    window = math.max(window, thread:get("last_success") - thread:get("counting_from"))
    total_failed = total_failed + thread:get("failed")
    total_starved = total_starved + thread:get("starved")
    for _, token in ipairs(thread:get("tokens")) do
      known[#known + 1] = token
    end
  end
  local errors = summary.errors
  local out = assert(io.open(output, "w"))
  out:write(string.format(
    '{"requests":%d,"ok":%d,"failed":%d,"starved":%d,"window_s":%.6f,"duration_us":%d,'
      .. '"p50_us":%.1f,"p99_us":%.1f,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, total_ok, total_failed, total_starved, window, summary.duration,
    latency:percentile(50), latency:percentile(99),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout
  ))
  out:close()
  if mode ~= "get" then
    local file = assert(io.open(output .. ".tokens", "w"))
    for _, token in ipairs(known) do
      file:write(token, "\n")
    end
    file:close()
  end
end
