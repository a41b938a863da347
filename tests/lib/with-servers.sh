#!/usr/bin/env bash
# Runs one test program (a tests/integration/*.sh or a C test) with the servers it needs:
# the PostgreSQL and MongoDB that tests/run.sh started (MIGRATE_PG_PORT/_SOCKET,
# MIGRATE_TEST_MONGO_URI), or, when run alone by `meson test`, a throwaway PostgreSQL
# and the MongoDB stand-in of its own, stopped afterwards. A server that cannot start is
# a loud failure (TAP "Bail out!"), never a pass. The PostgreSQL started here is the
# major MIGRATE_PG_VERSION names (13 to 18; default Debian's 15: scripts/pg-server.sh),
# which is how `tests/run.sh --pg` runs the suites on each version.
#   tests/lib/with-servers.sh PROGRAM [ARGS...]
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
own=""
cleanup() {
	if [ -n "$own" ]; then
		"$src/scripts/pg-server.sh" stop "$own/pg" >/dev/null 2>&1
		"$src/scripts/mongo-standin.sh" stop "$own/mongo" >/dev/null 2>&1
		rm -rf "$own"
	fi
}
trap cleanup EXIT
if [ -z "${MIGRATE_PG_PORT:-}" ] || [ -z "${MIGRATE_TEST_MONGO_URI:-}" ]; then
	own=$(mktemp -d "${TMPDIR:-/tmp}/migrate-servers.XXXXXX")
	chmod 755 "$own"
fi
if [ -z "${MIGRATE_PG_PORT:-}" ]; then
	exports=$("$src/scripts/pg-server.sh" start "$own/pg" fsync=off 2>&1) ||
		{ echo "Bail out! cannot start PostgreSQL: $exports"; exit 1; }
	eval "$exports"
	export MIGRATE_PG_PORT MIGRATE_PG_SOCKET
fi
if [ -z "${MIGRATE_TEST_MONGO_URI:-}" ]; then
	exports=$("$src/scripts/mongo-standin.sh" start "$own/mongo" 2>&1) ||
		{ echo "Bail out! cannot start the MongoDB stand-in: $exports"; exit 1; }
	eval "$exports"
	export MIGRATE_TEST_MONGO_URI=$MIGRATE_MONGO_URI
fi
case $1 in
*.sh) bash "$@" ;;
*) "$@" ;;
esac
