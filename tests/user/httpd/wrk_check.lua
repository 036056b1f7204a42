-- wrk script: counts responses that are not "200 with a body of the expected
-- length" (the length is the script's argument: wrk ... -s wrk_check.lua URL -- 1024)
-- and prints one line: "wrk-check: requests N bad B errors E timeouts T". Errors are
-- connect, read, write and status errors; timeouts (slow but complete
-- responses) are apart: QEMU's user-network port forward listens with a
-- backlog of 1, so some connections start only after SYN retries (1 s, 2 s).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  want = tonumber(args[1])
  bad = 0
end

function response(status, headers, body)
  if status ~= 200 or #body ~= want then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local b = 0
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format("wrk-check: requests %d bad %d errors %d timeouts %d\n", summary.requests, b,
    e.connect + e.read + e.write + e.status, e.timeout))
end
