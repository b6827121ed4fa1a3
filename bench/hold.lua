-- hold.lua: wrk script for the flash-sale benchmark. Each request asks for
-- holds on one event as a different signed-in user (tokens from a file),
-- and the run's status codes are counted and printed at the end.
local tokens = {}
local next_token = 1
counts = {}
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    for line in io.lines(os.getenv("BENCH_TOKENS")) do
        table.insert(tokens, line)
    end
    -- Threads start at different places in the token list.
    next_token = (math.random(#tokens))
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = os.getenv("BENCH_BODY") or '{"quantity":1}'
    path = os.getenv("BENCH_PATH")
    counts = {}
end

function request()
    next_token = next_token % #tokens + 1
    wrk.headers["Authorization"] = "Bearer " .. tokens[next_token]
    return wrk.format(nil, path)
end

function response(status, headers, body)
    counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        local c = t:get("counts")
        for status, n in pairs(c) do
            total[status] = (total[status] or 0) + n
        end
    end
    local line = "STATUS"
    for status, n in pairs(total) do
        line = line .. " " .. status .. "=" .. n
    end
    print(line)
    print(string.format("LATENCY p50_ms=%.2f p99_ms=%.2f", latency:percentile(50) / 1000,
                        latency:percentile(99) / 1000))
end
