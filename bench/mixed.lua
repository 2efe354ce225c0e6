-- mixed.lua - wrk script of bench.sh's mixed load: every connection cycles
-- through a fixed list of requests, each with its own person's header.
--
--   wrk -t2 -c64 -d10s --timeout 30s -s bench/mixed.lua URL -- FILE THREADS OFFSET [count]
--
-- FILE holds one request a line: PATH?QUERY <tab> HEADER-NAME: VALUE.  Thread
-- t of THREADS starts at line OFFSET + t * lines / THREADS (mod lines) and
-- takes the next line for each request it sends, so the threads together
-- spread over the whole list.  Every request is built once, in init().
--
-- With "count", response() counts the statuses (a redirect to the sign-in
-- page or a 404 is then seen, not only what wrk calls an error).  Without
-- it response() is not defined at all: wrk then skips handing headers and
-- body to Lua, which otherwise costs the client about half of what it can
-- ask of a fast server (nginx) on a small machine; bench.sh then reads the
-- statuses of the measured run from both servers' access logs.
--
-- done() prints, for bench.sh to read:
--   requests N / duration_us N / bytes N
--   latency_us p50 N / p90 N / p99 N / p999 N / max N / mean N
--   errors connect N read N write N timeout N status N   (status: > 399)
--   status CODE N            one line per status seen (with "count")
local threads = {}
local nthreads_set = 0

function setup(thread)
	thread:set("tid", nthreads_set)
	nthreads_set = nthreads_set + 1
	table.insert(threads, thread)
end

function init(args)
	local file, nthreads, offset = args[1], tonumber(args[2] or "1"), tonumber(args[3] or "0")
	reqs = {}
	for line in io.lines(file) do
		local path, name, value = line:match("^([^\t]+)\t([^:]+):%s*(.*)$")
		if path then
			reqs[#reqs + 1] = wrk.format("GET", path, { [name] = value })
		elseif #line > 0 then
			error("mixed.lua: cannot read line: " .. line)
		end
	end
	n = #reqs
	if n == 0 then
		error("mixed.lua: no requests in " .. file)
	end
	-- i is the index of the request sent last (1-based; request() adds one)
	i = (offset + math.floor(tid * n / nthreads)) % n
	codes = {}
	if args[4] ~= "count" then
		response = nil
	end
end

function request()
	i = i + 1
	if i > n then
		i = 1
	end
	return reqs[i]
end

function response(status, headers, body)
	codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
	io.write(string.format("requests %d\nduration_us %d\nbytes %d\n", summary.requests,
		summary.duration, summary.bytes))
	for _, p in ipairs({ { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p999", 99.9 } }) do
		io.write(string.format("latency_us %s %d\n", p[1], latency:percentile(p[2])))
	end
	io.write(string.format("latency_us max %d\nlatency_us mean %.0f\n", latency.max, latency.mean))
	local e = summary.errors
	io.write(string.format("errors connect %d read %d write %d timeout %d status %d\n", e.connect,
		e.read, e.write, e.timeout, e.status))
	local all = {}
	for _, t in ipairs(threads) do
		local c = t:get("codes")
		if c then
			for code, count in pairs(c) do
				all[code] = (all[code] or 0) + count
			end
		end
	end
	for code, count in pairs(all) do
		io.write(string.format("status %s %d\n", tostring(code), count))
	end
end
