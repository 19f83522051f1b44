-- wrk script: POST a prebuilt multipart/form-data body, again and again, each time
-- with a different photo: a 12-digit stamp inside the JPEG's comment segment counts
-- up, so no two requests carry the same photo (the same photo sent again would be
-- answered from the first one's result, SPEC 3.5, not ingested).
--
--   wrk -t1 -c8 -d10s --timeout 30s -s bench/multipart.lua URL -- BODY_FILE STAMP_OFFSET CONTENT_TYPE [FIRST]
--
-- BODY_FILE holds the complete body (password field + fileToUpload part), built by
-- bench/ingest.py; STAMP_OFFSET is the 0-based offset of the stamp's digits in it;
-- CONTENT_TYPE carries the boundary. `done` prints one JSON line (prefixed with
-- BENCH_JSON) that bench/ingest.py parses. FIRST (default 0) is where the stamps
-- start, so that several runs against one server send different photos.

local prefix, suffix
local counter = 0

function init(args)
   local path, offset, content_type = args[1], tonumber(args[2]), args[3]
   counter = tonumber(args[4] or "0")
   local handle = assert(io.open(path, "rb"))
   local body = handle:read("*a")
   handle:close()
   prefix = body:sub(1, offset)
   suffix = body:sub(offset + 13)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = content_type
end

function request()
   counter = counter + 1
   return wrk.format(nil, nil, nil, prefix .. string.format("%012d", counter) .. suffix)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
         .. '"connect_errors": %d, "read_errors": %d, "write_errors": %d, '
         .. '"status_errors": %d, "timeouts": %d, '
         .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean))
end
