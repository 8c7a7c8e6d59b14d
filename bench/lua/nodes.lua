-- W2: 20 random community ids per request, looked up by global id.
--   wrk -s bench/lua/nodes.lua URL -- ours|pg MIN_ID MAX_ID [PG_TYPE]
-- ours: nodes(ids: $ids), ids = base64url-no-pad("Community:<id>").
-- pg:   20 aliased node(id:) fields (PostGraphile has no `nodes`),
--       id = base64('["<PG_TYPE>","<id>"]') (PostGraphile's node id; bigint keys as strings).
dofile("bench/lua/common.lua")

local mode, min_id, max_id, pg_type
local N = 20
local pg_query

function init(args)
  mode, min_id, max_id, pg_type = args[1], tonumber(args[2]), tonumber(args[3]), args[4] or "Community"
  math.randomseed(os.time() + (tid or 0) * 7919)
  local parts, vars = {}, {}
  for i = 0, N - 1 do
    table.insert(vars, "$i" .. i .. ": ID!")
    table.insert(parts, "n" .. i .. ": node(id: $i" .. i .. ") { ... on Community { id code nameTh tourismTier } }")
  end
  pg_query = "query (" .. table.concat(vars, ", ") .. ") { " .. table.concat(parts, " ") .. " }"
end

function request()
  local ids = {}
  for i = 1, N do
    local id = math.random(min_id, max_id)
    if mode == "pg" then
      ids[i] = base64('["' .. pg_type .. '","' .. id .. '"]')
    else
      ids[i] = base64url_nopad("Community:" .. id)
    end
  end
  local body
  if mode == "pg" then
    local vars = {}
    for i = 1, N do table.insert(vars, '"i' .. (i - 1) .. '":"' .. ids[i] .. '"') end
    body = '{"query":"' .. pg_query .. '","variables":{' .. table.concat(vars, ",") .. '}}'
  else
    body = '{"query":"query ($ids: [ID!]!) { nodes(ids: $ids) { id ... on Community { code nameTh tourismTier } } }",' ..
           '"variables":{"ids":["' .. table.concat(ids, '","') .. '"]}}'
  end
  return wrk.format("POST", nil, nil, body)
end
