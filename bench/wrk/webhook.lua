-- Posts webhook messages with a unique messageId per request, so every one is journaled and none is
-- a duplicate. The first script argument (after --) makes ids unique across runs against one journal.
-- With FERRY_WRK_SPECTRUM=FILE set, the run's latency spectrum is written there at the end, one line per
-- percentile: "percentile<TAB>milliseconds" (the environment reaches done(), which runs apart from init()).
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  prefix = args[1] or "run"
end

function request()
  counter = counter + 1
  local id = prefix .. "-" .. tid .. "-" .. counter
  local body = '{"messageId":"' .. id .. '","conversation":"c' .. (counter % 4096) ..
      '","sender":"s' .. tid .. '","text":"bench message ' .. id .. '"}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function done(summary, latency, requests)
  local file = os.getenv("FERRY_WRK_SPECTRUM")
  if file == nil or file == "" then
    return
  end
  local out = io.open(file, "w")
  out:write(string.format("0\t%.3f\n", latency.min / 1000))
  for _, p in ipairs({ 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96.875, 98, 99, 99.5, 99.75, 99.9,
                       99.95, 99.99, 99.999 }) do
    out:write(string.format("%g\t%.3f\n", p, latency:percentile(p) / 1000))
  end
  out:write(string.format("100\t%.3f\n", latency.max / 1000))
  out:close()
end
