-- wrk script: mixed traffic against a hexaglot server, in proportions set by the environment
-- (LOAD_SEARCH, LOAD_LOOKUP, LOAD_CHECK, weights, default 8:1:1). Term searches draw words of the six
-- languages; lookups and checks rotate over five English sentences.
-- Search paths: one a line, already drawn with Zipf frequencies (scripts/load.sh writes them from
-- the UN devset); each search takes one at random.
local paths = {}
for line in io.lines(os.getenv("LOAD_PATHS") or "target/load-data/search-paths.txt") do
  paths[#paths + 1] = line
end
local sentences = {
  "The General Assembly adopted the resolution on the rights of the child without a vote.",
  "The Security Council remains seized of the matter and will continue to follow developments.",
  "Member States are invited to submit their views to the Secretary-General before the session.",
  "The Committee recommends that the State party strengthen its efforts to combat trafficking.",
  "International cooperation is essential for sustainable development in all regions of the world.",
}
local weights = {
  tonumber(os.getenv("LOAD_SEARCH") or "8"),
  tonumber(os.getenv("LOAD_LOOKUP") or "1"),
  tonumber(os.getenv("LOAD_CHECK") or "1"),
}
local total = weights[1] + weights[2] + weights[3]
local n = 0

request = function()
  n = n + 1
  local slot = n % total
  if slot < weights[1] then
    return wrk.format("GET", paths[math.random(#paths)])
  elseif slot < weights[1] + weights[2] then
    local s = sentences[(n % #sentences) + 1]
    local body = '{"text": "' .. s .. '", "source_lang": "en", "target_langs": ["fr"], "limit": 5}'
    return wrk.format("POST", "/api/v1/tm/lookup", { ["Content-Type"] = "application/json" }, body)
  else
    local s = sentences[(n % #sentences) + 1]
    local body = '{"source_lang": "en", "target_lang": "fr", "segments": [{"id": "1", "source": "'
      .. s .. '", "target": "La Convention est adoptée."}]}'
    return wrk.format("POST", "/api/v1/check", { ["Content-Type"] = "application/json" }, body)
  end
end

local errors = 0
response = function(status, headers, body)
  if status >= 400 then errors = errors + 1 end
end

setup = function(thread)
  thread:set("seed", math.random(1, 1000000))
end

init = function(args)
  math.randomseed(seed or 1)
end

done = function(summary, latency, requests)
  io.write(string.format("requests %d, errors (non-2xx/3xx) %d, socket errors %d\n", summary.requests,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%g %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
