# tests/node_tools.sh - sourced by suites that run test tools from npm
# (tests/package.json): can the Node on PATH run them?
#
#   . "$ROOT/tests/node_tools.sh"
#   node_tools_check browser playwright-core || fatal ...
#
# For each TOOL, reads engines.node from $KINDLING_NODE_MODULES/TOOL/package.json
# (default tests/node_modules) and compares it with `node --version`.  When
# node is missing, a tool is not installed, or the Node here is outside a
# tool's range, prints one plain line per problem, such as
#   browser: playwright-core 1.65.1 needs Node >=20 but this machine runs Node 18.20.4: pin ...
# and returns 1; otherwise returns 0 and prints nothing.  tests/browser/run.mjs
# and tests/integration/tus_client.mjs call it too before they load their tool.
#
# Ranges understood (the forms these packages use): comparators >=, >, <=, <,
# = or none, ^ and ~, on full or partial versions (18, 18.17, 18.17.0, 18.x,
# also with a space after the operator: ">= 18"), several in a set joined by
# spaces (">=18 <22"), sets joined by || ("^18.17.0 || >=20.5.0"), and "*".
# Anything else (hyphen ranges, prerelease tags) is not judged, nor is a
# package without engines.node: the check passes and the tool speaks for itself.

_NODE_TOOLS_DIR=${BASH_SOURCE[0]%/*}
[ "$_NODE_TOOLS_DIR" = "${BASH_SOURCE[0]}" ] && _NODE_TOOLS_DIR=.
_NODE_TOOLS_DIR=$(cd "$_NODE_TOOLS_DIR" && pwd)

node_tools_check() {
	local suite=$1 tool nm out rc=0 have
	shift
	nm=${KINDLING_NODE_MODULES:-$_NODE_TOOLS_DIR/node_modules}
	if ! have=$(node --version 2>/dev/null); then
		echo "$suite: no node on PATH to run $*: run make deps-test"
		return 1
	fi
	for tool in "$@"; do
		if [ ! -f "$nm/$tool/package.json" ]; then
			echo "$suite: $tool is not installed in $nm: run make deps-test"
			rc=1
			continue
		fi
		# prints "VERSION RANGE" when the range excludes this Node, nothing when
		# it fits, "! WHY" when package.json cannot be read
		# shellcheck disable=SC2016  # JavaScript, not shell
		out=$(node -e '
			let pkg;
			try { pkg = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); }
			catch (e) { console.log(`! ${e.message}`); process.exit(0); }
			const range = String((pkg.engines && pkg.engines.node) || "*");
			const V = process.argv[2].replace(/^v/, "").split(".").map(Number);
			function fits(c) {
				const m = /^(>=|<=|>|<|=|\^|~)?v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?$/.exec(c);
				if (!m) return c === "*" || c === "" || "?";
				const p = [m[2], m[3], m[4]].map((x) => (x === undefined || /[xX*]/.test(x) ? undefined : Number(x)));
				let n = p.indexOf(undefined);  /* how many parts p gives */
				if (n < 0) n = 3;
				let d = 0;  /* V against p, on those parts */
				for (let i = 0; i < n && !d; i++) d = V[i] - p[i];
				const lo = d >= 0;
				switch (m[1] || "=") {
				case ">=": return lo;
				case ">": return d > 0;
				case "<=": return d <= 0;
				case "<": return d < 0;
				case "=": return d === 0;
				case "^": return lo && V[0] === p[0] && (p[0] !== 0 || n < 2 || V[1] === p[1]);
				case "~": return lo && V[0] === p[0] && (n < 2 || V[1] === p[1]);
				}
			}
			const sets = range.split("||").map((s) => s.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1").split(/\s+/).map(fits));
			const ok = sets.some((s) => s.every((r) => r === true)) || sets.some((s) => s.includes("?"));
			if (!ok) console.log(`${pkg.version} ${range}`);
		' "$nm/$tool/package.json" "$have" 2>&1) || out="! ${out//$'\n'/ }"
		if [ "${out:0:1}" = "!" ]; then
			echo "$suite: cannot read $nm/$tool/package.json (${out#! }): run make deps-test"
			rc=1
		elif [ -n "$out" ]; then
			echo "$suite: $tool ${out%% *} needs Node ${out#* } but this machine runs Node ${have#v}:" \
				"pin a version that supports it in tests/package.json, then run make deps-test"
			rc=1
		fi
	done
	return $rc
}
