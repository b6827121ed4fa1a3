-- search_bench.lua: wrk script that cycles through the request paths in the
-- file given after "--", each thread from its own starting point.
local paths = {}
local counter = 0

function init(args)
    for line in io.lines(args[1]) do
        paths[#paths + 1] = line
    end
    counter = math.random(#paths)
end

function request()
    counter = counter % #paths + 1
    return wrk.format("GET", paths[counter])
end
