-- queue_join.lua: wrk script: joins, each by the next user's session token
-- from SESSIONS_FILE (one "event_id session_token" per line); threads take
-- every THREADS-th line so that no user joins twice while lines last
-- (offset and stride are set per thread by setup, as globals).
local sessions = {}
local event = nil
local n = 0
local counter = 0
setup = function(thread)
    counter = counter + 1
    thread:set("offset", counter)
    thread:set("stride", tonumber(os.getenv("THREADS") or "1"))
end
init = function(args)
    for line in io.lines(os.getenv("SESSIONS_FILE")) do
        local e, t = line:match("(%d+) (%S+)")
        event = e
        sessions[#sessions + 1] = t
    end
    n = offset
end
request = function()
    local token = sessions[(n - 1) % #sessions + 1]
    n = n + stride
    return wrk.format("POST", "/api/queue/" .. event .. "/join",
                      {["Authorization"] = "Bearer " .. token, ["Content-Length"] = "0"})
end
