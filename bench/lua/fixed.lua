-- One fixed GraphQL request body, read from the file given after `--`.
--   wrk -s bench/lua/fixed.lua URL -- body.json
dofile("bench/lua/common.lua")

local req

function init(args)
  req = wrk.format("POST", nil, nil, read_file(args[1]))
end

function request()
  return req
end
