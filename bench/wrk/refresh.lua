-- wrk: refresh-token rotation under load. Each connection owns a chain: it presents its refresh
-- token, and the answer's new refresh token is the one it presents next (the old one is dead, and
-- presenting it again would be theft). Seeds: one token per line in BENCH_SEEDS, split across
-- threads. A request with no token left (a failed answer broke a chain) is counted by the origin
-- as an error, which the report shows as non-2xx.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  local n_threads = tonumber(os.getenv("BENCH_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("BENCH_SEEDS")) do
    if i % n_threads == id then table.insert(tokens, line) end
    i = i + 1
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local token = table.remove(tokens, 1) or "exhausted"
  return wrk.format(nil, nil, nil, '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if token then table.insert(tokens, token) end
end
