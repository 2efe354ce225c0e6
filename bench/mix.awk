# mix.awk - the URL mix of bench.sh's mixed load: N distinct requests a
# district's people would make, drawn from a fixed pseudo-random sequence
# (the same on every machine and every awk: MINSTD in exact integer
# arithmetic), so two runs ask the very same questions.
#
#   awk -v seed=1 -v n=1200 -v clips=100000 -v people=52 -f bench/mix.awk
#
# Prints one line per request: KIND <tab> PATH?QUERY <tab> PERSON (0-based).
# KIND: api (list with filters, sort, page), fts (list with q=), practice,
# school, search (the pages).  The values come from what `kindling seed`
# writes (src/cli/cli_seed.c: schools, grades, subjects, the words of its
# titles) and the default practices (schema/001_init.sql), so the filters
# and words find real clips (a combination of them may find none, as real
# ones do).  Page numbers stay within what such a list plausibly holds at
# `clips` clips (a person follows "next page" links; at most page 50).
function rnd() { st = (st * 48271) % 2147483647; return st / 2147483647 }
function pick(a, k) { return a[1 + int(rnd() * k)] }
function chance(p) { return rnd() < p }
# A page number: mostly the first, often the next few, sometimes deep; past
# the end of the list, one within it.  Always three draws, so the sequence
# (and so the kinds and filters of the mix) is the same at every catalogue
# size: only page numbers differ.
function page(max,   r, a, b, p) {
	r = rnd(); a = rnd(); b = rnd()
	if (r < 0.45) p = 1
	else if (r < 0.75) p = 2 + int(a * 4)
	else p = 6 + int(a * 45)
	if (max < 1) max = 1
	if (max > 50) max = 50
	return p > max ? 1 + int(b * max) : p
}
function maxpage(est) { return int((est + 23) / 24) }
function add(kind, url) {
	if (url in seen) return 0
	seen[url] = 1
	printf "%s\t%s\t%d\n", kind, url, int(rnd() * people)
	made++
	return 1
}
function amp(s, x) { return s == "" ? x : s "&" x }
# A query text: words of the titles (openings, subjects, teachers' names);
# sometimes two or three words, sometimes a prefix (typing).
function words(   r, k, s, i) {
	r = rnd()
	if (r < 0.20) return pick(PHRASE, nPHRASE)
	if (r < 0.30) return pick(PREFIX, nPREFIX)
	# one word; or a word and a subject, or a word, a subject and a teacher
	s = pick(WORD, nWORD)
	if (r < 0.80) return s
	if (s in SUSET) return s "%20" pick(LAST, nLAST)
	s = s "%20" pick(SU, nSU)
	if (r < 0.95) return s
	return s "%20" pick(LAST, nLAST)
}
BEGIN {
	if (seed == "") seed = 1
	if (n == "") n = 1200
	if (clips == "") clips = 100000
	if (people == "") people = 52
	st = (seed % 2147483646) + 1
	nPR = split("blended-learning differentiation student-choice station-rotation mastery-tracking formative-assessment peer-feedback project-based-learning classroom-discussion flexible-grouping", PR, " ")
	nSC = split("north-high riverside-elementary lakeview-middle westside-academy eastgate-primary", SC, " ")
	nGR = split("K-2 3-5 6-8 9-12", GR, " ")
	nSU = split("math reading science history art writing music languages", SU, " ")
	nSO = split("newest oldest title recorded", SO, " ")
	for (i = 1; i <= nSU; i++) SUSET[SU[i]] = 1
	nWORD = split("station rotation choice boards small-group exit tickets peer review mastery checks discussion protocols project launch flexible groups self-paced playlists math reading science history art writing music languages Ruiz Okafor Martin Patel Kaya Haddad Lindqvist Sato Petrov Brooks Mensah Weber Rossi Ali Price Nair Ana Ben Chloe Dev Elif Farah Gus Hana Ivan Jada Kofi Lena Marco Nadia Owen Priya", WORD, " ")
	nPHRASE = split("station%20rotation exit%20tickets peer%20review choice%20boards discussion%20protocols project%20launch flexible%20groups mastery%20checks self-paced%20playlists small-group%20math station%20rotation%20math exit%20tickets%20science peer%20review%20writing choice%20boards%20reading project%20launch%20history Ana%20Ruiz Dev%20Patel Hana%20Sato Priya%20Nair Kofi%20Mensah", PHRASE, " ")
	nPREFIX = split("rot stat play disc sci hist mast lang read writ proj flex", PREFIX, " ")
	nLAST = split("Ruiz Okafor Martin Patel Kaya Haddad Lindqvist Sato Petrov Brooks Mensah Weber Rossi Ali Price Nair", LAST, " ")
	# Rough share of the catalogue each filter keeps (cli_seed.c draws 1-3
	# practices of 10, one school of 5, grade of 4, subject of 8).
	fPR = 0.19; fSC = 0.2; fGR = 0.25; fSU = 0.125
	made = 0
	for (tries = 0; made < n && tries < n * 100; tries++) {
		r = rnd()
		if (r < 0.40) {            # API list, filters
			qs = ""; est = clips
			if (chance(0.6)) { qs = amp(qs, "practice=" pick(PR, nPR)); est *= fPR }
			if (chance(0.4)) { qs = amp(qs, "school=" pick(SC, nSC)); est *= fSC }
			if (chance(0.3)) { qs = amp(qs, "grade=" pick(GR, nGR)); est *= fGR }
			if (chance(0.3)) { qs = amp(qs, "subject=" pick(SU, nSU)); est *= fSU }
			if (chance(0.5)) qs = amp(qs, "sort=" pick(SO, nSO))
			p = page(maxpage(est))
			if (p > 1 || chance(0.1)) qs = amp(qs, "page=" p)
			add("api", "/api/v1/clips" (qs == "" ? "" : "?" qs))
		} else if (r < 0.55) {     # API full-text
			w = words(); est = clips * (w ~ /%20/ ? 0.01 : 0.05)
			qs = "q=" w
			if (chance(0.25)) { qs = qs "&practice=" pick(PR, nPR); est *= fPR }
			if (chance(0.15)) { qs = qs "&school=" pick(SC, nSC); est *= fSC }
			if (chance(0.2)) qs = qs "&sort=" pick(SO, nSO)
			p = page(maxpage(est))
			if (p > 1) qs = qs "&page=" p
			add("fts", "/api/v1/clips?" qs)
		} else if (r < 0.72) {     # practice page
			pr = pick(PR, nPR); est = clips * fPR
			r2 = rnd(); qs = ""
			if (r2 < 0.3) {
				# the filter form, as a browser sends it (empty fields too)
				s = chance(0.5) ? pick(SC, nSC) : ""; if (s != "") est *= fSC
				g = chance(0.4) ? pick(GR, nGR) : ""; if (g != "") est *= fGR
				u = chance(0.4) ? pick(SU, nSU) : ""; if (u != "") est *= fSU
				qs = "school=" s "&grade=" g "&subject=" u "&sort=" pick(SO, nSO)
			} else if (r2 < 0.6) {
				qs = "school=" pick(SC, nSC); est *= fSC
			}
			p = page(maxpage(est))
			if (p > 1) qs = amp(qs, "page=" p)
			add("practice", "/practices/" pr (qs == "" ? "" : "?" qs))
		} else if (r < 0.85) {     # school page
			sc = pick(SC, nSC); est = clips * fSC
			r2 = rnd(); qs = ""
			if (r2 < 0.3) {
				s = chance(0.6) ? pick(PR, nPR) : ""; if (s != "") est *= fPR
				g = chance(0.4) ? pick(GR, nGR) : ""; if (g != "") est *= fGR
				u = chance(0.4) ? pick(SU, nSU) : ""; if (u != "") est *= fSU
				qs = "practice=" s "&grade=" g "&subject=" u "&sort=" pick(SO, nSO)
			} else if (r2 < 0.6) {
				qs = "sort=" pick(SO, nSO)
			}
			p = page(maxpage(est))
			if (p > 1) qs = amp(qs, "page=" p)
			add("school", "/schools/" sc (qs == "" ? "" : "?" qs))
		} else {                   # search page
			w = words(); est = clips * (w ~ /%20/ ? 0.01 : 0.05)
			p = page(maxpage(est))
			add("search", "/search?q=" w (p > 1 ? "&page=" p : ""))
		}
	}
	if (made < n) {
		printf "mix.awk: only %d distinct requests after %d tries\n", made, tries > "/dev/stderr"
		exit 1
	}
}
