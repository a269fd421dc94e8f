-- Posts webhook messages. Arguments (after --): a prefix that keeps ids unique across runs against one
-- journal, then optionally COUNT and CONVERSATIONS.
--   Without COUNT, every request carries a new messageId, so every one is journaled and none is a duplicate;
--   each thread spreads them over 2,048 conversations of its own.
--   With COUNT, each wrk thread cycles through ids 0..COUNT-1 of its own over CONVERSATIONS conversations of
--   its own, until wrk is stopped: the journal counts each repeat as a duplicate, so exactly threads x COUNT
--   messages are accepted, once every id has gone round once. (wrk runs for its whole duration even when a
--   thread stops early, and a stopped thread drops its connections' requests in flight: the caller watches
--   the journal and interrupts wrk instead.)
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
  count = tonumber(args[2])
  conversations = tonumber(args[3]) or 2048
end

function request()
  local n = count and counter % count or counter + 1
  counter = counter + 1
  local id = prefix .. "-" .. tid .. "-" .. n
  local body = '{"messageId":"' .. id .. '","conversation":"' .. prefix .. '-' .. tid .. '-' .. (n % conversations) ..
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
