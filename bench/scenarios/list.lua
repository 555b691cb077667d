-- GET /api/v1/products?limit=50: one keyset page of 50.
request = function()
  return wrk.format("GET", "/api/v1/products?limit=50")
end
