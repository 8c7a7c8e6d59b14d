-- W3: transitionEnrolment NOMINATED -> ENROLLED with expectedVersion 1,
-- each enrolment once. The file lists fresh enrolment numbers (one per
-- line); thread t of T takes lines t, t+T, t+2T, ...
--   wrk -t T -s bench/lua/transition.lua URL -- ids.txt T
-- When a thread runs out it starts over (those requests then fail with
-- CONFLICT) and counts every such request in `exhausted`.
dofile("bench/lua/common.lua")

local mine = {}
local next_index = 1
local wrapped = false

function init(args)
  local nthreads = tonumber(args[2])
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == (tid or 0) then table.insert(mine, line) end
    i = i + 1
  end
end

function request()
  if next_index > #mine then
    next_index = 1
    wrapped = true
  end
  if wrapped then exhausted = exhausted + 1 end
  local id = base64url_nopad("Enrolment:" .. mine[next_index])
  next_index = next_index + 1
  local body = '{"query":"mutation ($in: TransitionEnrolmentInput!) { transitionEnrolment(input: $in) { id status version } }",' ..
               '"variables":{"in":{"id":"' .. id .. '","expectedVersion":1,"to":"ENROLLED"}}}'
  return wrk.format("POST", nil, nil, body)
end
