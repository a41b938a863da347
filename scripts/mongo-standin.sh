#!/usr/bin/env bash
# Starts and stops the MongoDB STAND-IN (tests/mongo_standin/mongo_standin.py): a small
# in-memory server that speaks the wire protocol. It is not MongoDB; it exists because no
# MongoDB server can be installed here. Set MIGRATE_TEST_MONGO_URI to use a real mongod.
#
#   scripts/mongo-standin.sh start DIR   prints `export MIGRATE_MONGO_URI=...`
#     (MIGRATE_STANDIN_VERSION=5.0|7.0|8.0 picks the mongod imitated; default 7.0;
#      MIGRATE_STANDIN_REPLSET=NAME makes it the primary of a one-member replica set,
#      which runs transactions)
#   scripts/mongo-standin.sh stop DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
case "$cmd" in
start)
	mkdir -p "$dir"
	rm -f "$dir/port"
	/usr/bin/python3 "$src/tests/mongo_standin/mongo_standin.py" --port 0 \
		--port-file "$dir/port" --mongod-version "${MIGRATE_STANDIN_VERSION:-7.0}" \
		${MIGRATE_STANDIN_REPLSET:+--replset "$MIGRATE_STANDIN_REPLSET"} --log "$dir/standin.log" >"$dir/standin.out" 2>&1 &
	echo $! >"$dir/pid"
	for _ in $(seq 200); do
		[ -s "$dir/port" ] && break
		sleep 0.05
	done
	[ -s "$dir/port" ] || { echo "mongo-standin: did not start" >&2; cat "$dir/standin.out" >&2; exit 1; }
	echo "export MIGRATE_MONGO_URI='mongodb://127.0.0.1:$(cat "$dir/port")/?serverSelectionTimeoutMS=3000'"
	;;
stop)
	[ -f "$dir/pid" ] || exit 0
	kill "$(cat "$dir/pid")" 2>/dev/null || true
	rm -f "$dir/pid"
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
