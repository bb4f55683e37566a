-- wrk script of the vending scenario of bench/scaleout-load.sh and of the
-- group creation of scripts/vending-load.sh: each request posts a new
-- resource-group request to /vending/v1/resourceGroups. SUB (the catalog's
-- subscription) and REPLICA (the replica this wrk loads, 0 when unset) come
-- from the environment; the group name holds the replica, the wrk thread and
-- a counter, so no two requests of a run name the same group.
-- bench/scaleout-load.sh appends a done() that prints one JSON line.
local n = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function request()
  n = n + 1
  local body = string.format('{"subscriptionId":"%s","name":"r%s-%d-%d","environment":"dev","costCenter":"cc1","region":"westeurope","tags":{"Owner":"load"}}',
    os.getenv("SUB"), os.getenv("REPLICA") or "0", tid, n)
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end -- wrk.format does not add wrk.headers itself
  h["Content-Type"] = "application/json"
  return wrk.format("POST", "/vending/v1/resourceGroups", h, body)
end
-- The first refused request of each thread is printed (on one line), so an
-- error shows with its cause rather than only as a count.
local shown = false
function response(status, headers, body)
  if status ~= 202 and not shown then
    shown = true
    print("refused: " .. status .. " " .. string.gsub(body or "", "%s+", " "))
  end
end
