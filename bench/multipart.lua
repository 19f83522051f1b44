-- wrk script: POST one prebuilt multipart/form-data body, again and again.
--
--   wrk -t1 -c8 -d10s --timeout 30s -s bench/multipart.lua URL -- BODY_FILE CONTENT_TYPE
--
-- BODY_FILE holds the complete body (password field + fileToUpload part), built by
-- bench/ingest.py; CONTENT_TYPE carries its boundary. `done` prints one JSON line
-- (prefixed with BENCH_JSON) that bench/ingest.py parses.

function init(args)
   local path, content_type = args[1], args[2]
   local handle = assert(io.open(path, "rb"))
   local body = handle:read("*a")
   handle:close()
   wrk.method = "POST"
   wrk.body = body
   wrk.headers["Content-Type"] = content_type
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
