-- wrk: POSTs GraphQL bodies from the file named by PEER_BODIES (one JSON
-- body per line), with PEER_TOKEN as bearer token when set. PEER_ORDER:
-- `random` (default) picks a body at random for each request; `turn` takes
-- them in turn, each thread from its own offset (writes spread over every
-- indicator instead of piling onto a few). Used alike against chitieu and
-- PostGraphile. Each request is formatted once, in `init`, not on every
-- send: `wrk.format` builds it from its parts in Lua, which was a good
-- share of wrk's own CPU on the cores the servers share with it.
local bodies = {}
for line in io.lines(os.getenv("PEER_BODIES")) do
  bodies[#bodies + 1] = line
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("PEER_TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
local in_turn = os.getenv("PEER_ORDER") == "turn"
local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end
-- One sequence per thread (each thread has its own Lua state).
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
local requests = {}
function init(args)
  for i, body in ipairs(bodies) do
    requests[i] = wrk.format(nil, nil, nil, body)
  end
end
local n = 0
request = function()
  if in_turn then
    n = n + 1
    return requests[(offset + n) % #requests + 1]
  end
  return requests[math.random(#requests)]
end
