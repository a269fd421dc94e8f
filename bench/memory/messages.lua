-- Posts a fixed set of unique webhook messages: each wrk thread sends ids 1..count of its own, over its
-- share of the conversations, then stops. Requests a connection sends after its thread's last id repeat
-- earlier ids, so the journal counts them as duplicates: exactly threads x count messages are accepted.
-- Arguments (after --): prefix, count per thread, conversations per thread.
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  prefix = args[1]
  count = tonumber(args[2])
  conversations = tonumber(args[3])
end

function request()
  local n = counter % count
  counter = counter + 1
  local id = prefix .. "-" .. tid .. "-" .. n
  local body = '{"messageId":"' .. id .. '","conversation":"' .. prefix .. '-' .. tid .. '-' .. (n % conversations) ..
      '","sender":"s' .. tid .. '","text":"memory bench message ' .. id .. '"}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
  if counter >= count then
    wrk.thread:stop()
  end
end
