-- queue_status.lua: wrk script: status polls, each with the next token
-- from TOKENS_FILE (one "event_id token" per line), round robin.
local tokens = {}
local event = nil
local n = 0
init = function(args)
    for line in io.lines(os.getenv("TOKENS_FILE")) do
        local e, t = line:match("(%d+) (%S+)")
        event = e
        tokens[#tokens + 1] = t
    end
    n = math.random(#tokens)
end
request = function()
    n = n % #tokens + 1
    return wrk.format("GET", "/api/queue/" .. event .. "/status?token=" .. tokens[n])
end
