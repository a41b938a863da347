#!/usr/bin/env bash
# A throwaway PostgreSQL for the demo, the tests and the benchmark: a private data
# directory, a private unix-socket directory and a loopback port, never the system
# service. As root it runs the server as the postgres user through runuser.
#
#   scripts/pg-server.sh start DIR [fsync=on|off]   prints shell exports for the server
#   scripts/pg-server.sh stop DIR
#
# Which server: Debian's PostgreSQL 15 unless MIGRATE_PG_VERSION names another major
# (13 to 18, fetched once by scripts/pg-versions.sh) or MIGRATE_PG_BINDIR a directory
# holding initdb, pg_ctl and postgres (their libraries in ../lib when not the system's).
# psql is always the system's (15), which talks to every server of the matrix.
#
# The server has a superuser `postgres` (trust over the socket) and a role `app` with
# password $MIGRATE_PG_PASSWORD (default s3cret-Pa55) that owns database `app`,
# reachable over TCP with scram-sha-256.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
psql=$(ls -d /usr/lib/postgresql/15/bin/psql 2>/dev/null || command -v psql || true)
[ -n "$psql" ] || { echo "pg-server: psql is not installed (apt-get install postgresql-15)" >&2; exit 1; }

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [fsync=on|off]" >&2; exit 2; }

# the server's programs: those it was started with when stopping (DIR/bindir)
if [ "$cmd" = stop ] && [ -f "$dir/bindir" ]; then
	bindir=$(cat "$dir/bindir")
elif [ -n "${MIGRATE_PG_BINDIR:-}" ]; then
	bindir=$MIGRATE_PG_BINDIR
elif [ -n "${MIGRATE_PG_VERSION:-}" ] && [ "$MIGRATE_PG_VERSION" != 15 ]; then
	bindir=$("$here/pg-versions.sh" bindir "$MIGRATE_PG_VERSION") || exit 1
else
	bindir=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)
	[ -n "$bindir" ] || { echo "pg-server: PostgreSQL 15 is not installed (apt-get install postgresql-15)" >&2; exit 1; }
fi
[ -x "$bindir/postgres" ] || { echo "pg-server: no postgres in $bindir" >&2; exit 1; }
# a server build that carries its own libraries (the npm ones) finds them in ../lib
libs=()
[ -d "$bindir/../lib" ] && [ "$bindir" != /usr/lib/postgresql/15/bin ] &&
	libs=(env "LD_LIBRARY_PATH=$(cd "$bindir/../lib" && pwd)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")

as_owner() { # runs a server program as the postgres user when root
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "${libs[@]}" "$@"; else "${libs[@]}" "$@"; fi
}

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$cmd" in
start)
	fsync=${3:-fsync=off}
	fsync=${fsync#fsync=}
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	echo "$bindir" >"$dir/bindir"
	password=${MIGRATE_PG_PASSWORD:-s3cret-Pa55}
	as_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	mkdir -p "$dir/socket"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir/socket"
	cat >"$dir/data/pg_hba.conf" <<HBA
local all postgres trust
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
HBA
	for attempt in 1 2 3 4 5; do
		port=$(free_port)
		if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir/socket -c fsync=$fsync -c max_connections=200 -c password_encryption=scram-sha-256" >/dev/null 2>&1; then
			break
		fi
		port=""
	done
	[ -n "$port" ] || { cat "$dir/server.log" >&2; exit 1; }
	echo "$port" >"$dir/port"
	"$psql" -q -h "$dir/socket" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
		-c "CREATE ROLE app LOGIN PASSWORD '$password'" -c "CREATE DATABASE app OWNER app" >/dev/null
	echo "export MIGRATE_PG_HOST=127.0.0.1 MIGRATE_PG_PORT=$port MIGRATE_PG_SOCKET=$dir/socket"
	echo "export MIGRATE_PG_DSN='postgres://app:$password@127.0.0.1:$port/app?connect_timeout=10'"
	;;
stop)
	[ -d "$dir/data" ] || exit 0
	as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	;;
*)
	echo "usage: $0 start|stop DIR [fsync=on|off]" >&2
	exit 2
	;;
esac
