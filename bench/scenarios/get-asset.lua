-- GET /api/v1/assets/{id} over ids read from $ASSET_IDS_FILE (seeded, available assets), uniformly at random.
local ids = {}
for line in io.lines(os.getenv("ASSET_IDS_FILE")) do ids[#ids + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/assets/" .. ids[math.random(#ids)])
end
