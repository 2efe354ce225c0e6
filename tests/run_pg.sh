#!/usr/bin/env bash
# run_pg.sh BUILD_DIR UNIT_BIN... -- SUITE... - the catalogue's unit tests
# and the integration suites again, on PostgreSQL: one throwaway cluster
# from Debian's postgresql package (tests/pg_cluster.sh) for the run, each
# unit test and each suite with databases of its own on it.  Closing lines
# "unit-pg: ..." and "SUITE-pg: ..." as the others.
set -u
build=$1
shift
units=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	units+=("$1")
	shift
done
[ $# -gt 0 ] && shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cluster=$(mktemp -d "${TMPDIR:-/tmp}/kindling-pg.XXXXXX")
trap 'bash "$here/pg_cluster.sh" stop "$cluster"' EXIT
trap 'exit 130' INT
url=$(bash "$here/pg_cluster.sh" start "$cluster") || {
	echo "postgres: cannot start a PostgreSQL cluster (see above)"
	echo "unit-pg: 0 passed, 1 failed"
	exit 1
}
echo "# PostgreSQL $(psql -X -A -t -d "$url" -c 'SHOW server_version' 2>/dev/null) at $cluster"
rc=0
KINDLING_TEST_DATABASE=$url UNIT_LABEL=unit-pg sh "$here/run_unit.sh" "${units[@]}" || rc=1
for s in "$@"; do
	KINDLING_IT_PG=$url KINDLING_BIN=$build/kindling bash "$here/integration/$s.sh" || rc=1
done
exit $rc
