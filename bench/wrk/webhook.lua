-- Posts webhook messages with a unique messageId per request, so every one is journaled and none is
-- a duplicate. The first script argument (after --) makes ids unique across runs against one journal.
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
