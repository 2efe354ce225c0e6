#!/usr/bin/env bash
# pg_cluster.sh - a throwaway PostgreSQL cluster from Debian's postgresql
# package, for the tests: its own folder, a Unix socket in it and nothing
# on the network, fsync off (it dies with the test).
#
#   bash tests/pg_cluster.sh start DIR   prints the URL of database "kindling"
#   bash tests/pg_cluster.sh stop DIR    stops it and removes DIR
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the
# postgres user that the package creates (DIR is handed to it).
set -eu
cmd=${1:?start or stop}
dir=${2:?a folder}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
	echo "pg_cluster: PostgreSQL is not installed (Debian package postgresql; make deps-test installs it)" >&2
	exit 1
fi
# (from / : PostgreSQL's programs stop when they cannot read the folder
# they are started in, and the postgres user may not read the caller's)
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}
case $cmd in
start)
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir" && chmod 700 "$dir"
	as_owner "$bin/initdb" -D "$dir/data" -U kindling --auth=trust -E UTF8 --locale=C.UTF-8 \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
	as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
		-o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off \
		    -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
		>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
	as_owner "$bin/createdb" -h "$dir" -U kindling kindling
	echo "postgresql:///kindling?host=$dir&user=kindling"
	;;
stop)
	if [ -d "$dir/data" ]; then
		as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	;;
*)
	echo "pg_cluster: start or stop, not $cmd" >&2
	exit 2
	;;
esac
