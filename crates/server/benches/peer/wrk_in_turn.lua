-- wrk: POSTs the GraphQL bodies of the file named by PEER_BODIES (one JSON
-- body per line) in turn, each thread from its own offset, with
-- PEER_TOKEN as bearer token when set: writes spread over every indicator
-- instead of piling onto a few. Used alike against chitieu and PostGraphile.
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
local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(offset + n) % #bodies + 1])
end
