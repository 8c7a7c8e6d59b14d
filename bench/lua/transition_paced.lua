-- W3's writes at a set pace: transition.lua, each connection waiting
-- PAUSE ms before each request (wrk's delay hook), so that C connections
-- send about C * 1000 / (PAUSE + latency) requests per second.
--   wrk -t T -c C -s bench/lua/transition_paced.lua URL -- ids.txt T PAUSE
dofile("bench/lua/transition.lua")

local base_init = init
local pause = 0

function init(args)
  base_init(args)
  pause = tonumber(args[3]) or 0
end

function delay()
  return pause
end
