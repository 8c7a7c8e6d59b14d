-- Shared by the wrk scripts: counts GraphQL errors in response bodies
-- (wrk itself only counts non-2xx statuses) and prints one JSON line of
-- results for bench/run.sh to read.
--
-- wrk runs one Lua state per thread; the counters are globals so that
-- done() can read each thread's with thread:get().

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

ok_count = 0      -- 200 with no "errors" key
gql_errors = 0    -- 200 with "errors" in the body
non_200 = 0       -- any other status
conflicts = 0     -- bodies with a CONFLICT error code (writes)
exhausted = 0     -- write script ran out of fresh ids (see transition.lua)
first_error = ""  -- the first error body seen, for the log

function response(status, headers, body)
  if status ~= 200 then
    non_200 = non_200 + 1
    if first_error == "" then first_error = "HTTP " .. status .. " " .. string.sub(body or "", 1, 300) end
  elseif string.find(body, '"errors"', 1, true) then
    gql_errors = gql_errors + 1
    if string.find(body, '"CONFLICT"', 1, true) then conflicts = conflicts + 1 end
    if first_error == "" then first_error = string.sub(body, 1, 300) end
  else
    ok_count = ok_count + 1
  end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local ok, errs, non, conf, exh, first = 0, 0, 0, 0, 0, ""
  for _, t in ipairs(threads) do
    ok = ok + t:get("ok_count")
    errs = errs + t:get("gql_errors")
    non = non + t:get("non_200")
    conf = conf + t:get("conflicts")
    exh = exh + t:get("exhausted")
    if first == "" then first = t:get("first_error") or "" end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,' ..
    '"max_ms":%.3f,"ok":%d,"gql_errors":%d,"non_200":%d,"conflicts":%d,"exhausted":%d,' ..
    '"socket_errors":%d,"first_error":%s}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, ok, errs, non, conf, exh,
    e.connect + e.read + e.write + e.timeout, json_string(first)))
end

-- Reads a whole file.
function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- base64 (standard alphabet, padded) and base64url without padding.
-- wrk embeds LuaJIT, whose `bit` library makes this cheap.
local bit = require("bit")
local band, bor, lshift, rshift = bit.band, bit.bor, bit.lshift, bit.rshift
local alphabet = {}
do
  local a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  for i = 1, 64 do alphabet[i - 1] = a:sub(i, i) end
end

function base64(data)
  local out, n = {}, #data
  for i = 1, n, 3 do
    local a, b, c = data:byte(i, i + 2)
    local v = bor(lshift(a, 16), lshift(b or 0, 8), c or 0)
    out[#out + 1] = alphabet[rshift(v, 18)]
    out[#out + 1] = alphabet[band(rshift(v, 12), 63)]
    out[#out + 1] = b and alphabet[band(rshift(v, 6), 63)] or "="
    out[#out + 1] = c and alphabet[band(v, 63)] or "="
  end
  return table.concat(out)
end

function base64url_nopad(data)
  return (base64(data):gsub("%+", "-"):gsub("/", "_"):gsub("=", ""))
end
