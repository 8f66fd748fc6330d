-- wrk: POSTs a GraphQL body picked at random from the file named by
-- PEER_BODIES (one JSON body per line), with PEER_TOKEN as bearer token
-- when set. Used alike against chitieu and PostGraphile.
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
-- One sequence per thread (each thread has its own Lua state).
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
request = function()
  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
end
