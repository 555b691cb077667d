-- GET /api/v1/products/by-sku/{sku} over SKUs read from $SKUS_FILE (seeded products), uniformly at random.
local skus = {}
for line in io.lines(os.getenv("SKUS_FILE")) do skus[#skus + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/products/by-sku/" .. skus[math.random(#skus)])
end
