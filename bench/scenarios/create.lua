-- POST /api/v1/products with a SKU unique per run ($SKU_PREFIX), thread and request; bearer token from $TOKEN.
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
local counter = 0
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "") }
request = function()
  counter = counter + 1
  local body = string.format('{"sku":"%s-%d-%d","name":"Bench product","category":"bench","attributes":{"lens":"50mm"},"status":"active"}',
    os.getenv("SKU_PREFIX"), thread_id, counter)
  return wrk.format("POST", "/api/v1/products", headers, body)
end
